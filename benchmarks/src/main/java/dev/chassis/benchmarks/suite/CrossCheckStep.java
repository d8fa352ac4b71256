package dev.chassis.benchmarks.suite;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.chassis.benchmarks.cross.H2load;
import dev.chassis.benchmarks.cross.QpsClient;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The same comparison with load generators nobody here wrote: nghttp2's {@code h2load} sending
 * prepared gRPC frames of {@code GetUser}, and grpc-java's own {@code qps_client} driving {@code
 * grpc.testing.BenchmarkService/UnaryCall}, each against bare and chassis, interleaved, a fresh
 * server per run. h2load counts any HTTP 200 as success, so every h2load run is checked against the
 * server's own count of OK answers (exact: request-count runs on a server nobody else called) and
 * once against the trailers with {@code nghttp}.
 */
final class CrossCheckStep {
  private static final Logger log = LoggerFactory.getLogger(CrossCheckStep.class);
  private static final List<String> KINDS = List.of("bare", "chassis");

  private final Suite suite;

  CrossCheckStep(Suite suite) {
    this.suite = suite;
  }

  void run() throws Exception {
    if (!Tools.onPath("h2load") || !Tools.onPath("nghttp")) {
      throw new IOException("h2load and nghttp are missing: install Debian's nghttp2-client");
    }
    Map<String, Samples> h2Rps = samples();
    Map<String, Samples> h2Mean = samples();
    Map<String, Samples> h2P50 = samples();
    Map<String, Samples> h2P99 = samples();
    Map<String, Samples> qps = samples();
    Map<String, Samples> qpsP50 = samples();
    Map<String, Samples> qpsP99 = samples();
    Map<String, String> verified = new LinkedHashMap<>();
    for (int repeat = 0; repeat < suite.options().repeats; repeat++) {
      for (int i = 0; i < KINDS.size(); i++) {
        String kind = KINDS.get((i + repeat) % KINDS.size());
        JsonNode h2 = h2load(kind);
        h2Rps.get(kind).add(h2.path("requests_per_second").asDouble());
        h2Mean.get(kind).add(h2.path("request_time_us").path("mean").asDouble());
        h2P50.get(kind).add(h2.path("log_latency_us").path("p50").asDouble(Double.NaN));
        h2P99.get(kind).add(h2.path("log_latency_us").path("p99").asDouble(Double.NaN));
        verified.merge(
            kind, h2.path("server_check").path("server_ok").asText(), (a, b) -> a + ", " + b);
        JsonNode qpsRun = qpsClient(kind);
        qps.get(kind).add(qpsRun.path("qps").asDouble());
        qpsP50.get(kind).add(qpsRun.path("p50_us").asDouble());
        qpsP99.get(kind).add(qpsRun.path("p99_us").asDouble());
      }
    }
    int concurrency = suite.options().concurrency;
    MarkdownTable h2Table =
        new MarkdownTable(
            "server",
            ">requests/s",
            ">vs bare",
            ">mean µs",
            ">p50 µs",
            ">p99 µs",
            "server's OK count, warm-up included (matches)");
    double bareRps = h2Rps.get("bare").median();
    for (String kind : KINDS) {
      h2Table.row(
          kind,
          h2Rps.get(kind).describe(0),
          Samples.ratio(h2Rps.get(kind).median(), bareRps),
          h2Mean.get(kind).describe(0),
          h2P50.get(kind).describe(0),
          h2P99.get(kind).describe(0),
          verified.get(kind));
    }
    MarkdownTable qpsTable = new MarkdownTable("server", ">QPS", ">vs bare", ">p50 µs", ">p99 µs");
    double bareQps = qps.get("bare").median();
    for (String kind : KINDS) {
      qpsTable.row(
          kind,
          qps.get(kind).describe(0),
          Samples.ratio(qps.get(kind).median(), bareQps),
          qpsP50.get(kind).describe(0),
          qpsP99.get(kind).describe(0));
    }
    suite
        .report()
        .section(
            "Cross-check with load generators we did not write",
            Report.format(
                    "Saturation again, %d calls in flight on one connection, against bare and"
                        + " chassis (as in the load step), interleaved, a fresh server per run."
                        + " Cells: median (lowest–highest).\n\n"
                        + "**h2load** (nghttp2, `-c 1 -m %d`): POSTs of a prepared `GetUser` gRPC"
                        + " frame; a warm-up run of %s requests, then a counted run sized to"
                        + " about %d s. Mean from h2load's summary, percentiles from its"
                        + " per-request log. h2load counts any HTTP 200 as success, so each run"
                        + " is checked against the server's own count of OK answers (h2load's"
                        + " successes plus one `nghttp -v` call that read `grpc-status: 0` from"
                        + " the trailers; any other status fails the run).\n\n",
                    concurrency,
                    concurrency,
                    Samples.number(warmupRequests(), 0),
                    suite.options().duration.toSeconds())
                + h2Table
                + Report.format(
                    "\n**qps_client** (grpc-java's `io.grpc.benchmarks.qps.AsyncClient` 1.79.0,"
                        + " the newest published, on our 1.83 runtime): `UnaryCall` of"
                        + " `grpc.testing.BenchmarkService`, served by both servers as grpc's"
                        + " own qps server serves it (100-byte responses), 1 channel × %d"
                        + " outstanding, %d s warm-up, %d s measured.\n\n",
                    concurrency,
                    qpsWarmupSeconds(),
                    Math.max(1, suite.options().duration.toSeconds()))
                + qpsTable);
  }

  private static Map<String, Samples> samples() {
    Map<String, Samples> samples = new LinkedHashMap<>();
    for (String kind : KINDS) {
      samples.put(kind, new Samples());
    }
    return samples;
  }

  private int warmupRequests() {
    return suite.options().quick ? 2_000 : 50_000;
  }

  private long qpsWarmupSeconds() {
    return Math.max(1, suite.options().warmup.toSeconds());
  }

  /** A warm-up and a counted h2load run on a fresh server, checked against its outcomes. */
  private JsonNode h2load(String kind) throws Exception {
    int concurrency = suite.options().concurrency;
    JsonNode warmup;
    JsonNode measured;
    Map<String, Long> outcomes;
    try (ServerProcess server = ServerProcess.start(suite, kind, List.of())) {
      String target = "127.0.0.1:" + server.port();
      warmup =
          h2loadRun(
              target,
              "-n",
              Integer.toString(warmupRequests()),
              "--no-trailer-check",
              "-c",
              "1",
              "-m",
              Integer.toString(concurrency));
      long requests =
          Math.max(
              1000,
              Math.round(
                  warmup.path("requests_per_second").asDouble()
                      * suite.options().duration.toMillis()
                      / 1000.0));
      measured =
          h2loadRun(
              target,
              "-n",
              Long.toString(requests),
              "-c",
              "1",
              "-m",
              Integer.toString(concurrency));
      JsonNode stats = server.stop();
      outcomes = new LinkedHashMap<>();
      if (stats != null) {
        stats
            .path("outcomes")
            .properties()
            .forEach(e -> outcomes.put(e.getKey(), e.getValue().asLong()));
      }
    }
    long extra = measured.path("trailer_check").path("ok").asBoolean(false) ? 1 : 0;
    H2load.ServerCheck check =
        H2load.compareWithServer(
            warmup.path("succeeded").asLong() + measured.path("succeeded").asLong(),
            extra,
            outcomes,
            true);
    if (!check.passed() || extra != 1) {
      throw new IOException(
          "h2load against "
              + kind
              + " does not match the server's gRPC outcomes: "
              + check.toMap()
              + ", trailer check "
              + measured.path("trailer_check")
              + ", server outcomes "
              + outcomes);
    }
    ObjectNode raw = Report.JSON.createObjectNode();
    raw.put("tool", "h2load").put("kind", kind);
    raw.set("result", measured);
    raw.set("server_check", Report.JSON.valueToTree(check.toMap()));
    suite.report().raw("cross", raw);
    ObjectNode result = measured.deepCopy();
    result.set("server_check", Report.JSON.valueToTree(check.toMap()));
    log.info(
        "  h2load {}: {} req/s, server OK {}",
        kind,
        Math.round(measured.path("requests_per_second").asDouble()),
        check.toMap().get("server_ok"));
    return result;
  }

  private JsonNode h2loadRun(String target, String... flags) throws Exception {
    List<String> command = new ArrayList<>();
    command.addAll(List.of(Tools.java(), "-cp", suite.classpath(), H2load.class.getName()));
    command.add(target);
    command.addAll(List.of(flags));
    command.add("--json");
    String output = Tools.output(command);
    return Report.JSON.readTree(output.substring(output.lastIndexOf("\n{") + 1));
  }

  private JsonNode qpsClient(String kind) throws Exception {
    try (ServerProcess server = ServerProcess.start(suite, kind, List.of())) {
      List<String> command = new ArrayList<>();
      command.addAll(List.of(Tools.java(), "-cp", suite.classpath(), QpsClient.class.getName()));
      command.add("127.0.0.1:" + server.port());
      command.addAll(List.of("--channels", "1"));
      command.addAll(List.of("--outstanding", Integer.toString(suite.options().concurrency)));
      command.addAll(List.of("--warmup", Long.toString(qpsWarmupSeconds())));
      command.addAll(
          List.of("--duration", Long.toString(Math.max(1, suite.options().duration.toSeconds()))));
      command.addAll(List.of("--server-payload", "100", "--json"));
      String output = Tools.output(command);
      JsonNode result = Report.JSON.readTree(output.substring(output.lastIndexOf("\n{") + 1));
      JsonNode stats = server.stop();
      ObjectNode raw = Report.JSON.createObjectNode();
      raw.put("tool", "qps_client").put("kind", kind);
      raw.set("result", result);
      if (stats != null) {
        raw.set("server_stats", stats);
      }
      suite.report().raw("cross", raw);
      log.info("  qps_client {}: {} QPS", kind, result.path("qps").asLong());
      return result;
    }
  }
}
