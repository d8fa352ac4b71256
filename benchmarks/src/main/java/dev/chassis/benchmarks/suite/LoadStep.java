package dev.chassis.benchmarks.suite;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.chassis.benchmarks.load.LoadMain;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The side-by-side load runs: each server kind in its own JVM pinned to the server CPUs, driven
 * from this JVM by {@link LoadMain}, every configuration repeated with the kinds interleaved (bare,
 * chassis, chassis-full, rest; then the next repeat starting one kind later), a fresh server per
 * kind and repeat.
 *
 * <p>Per server: saturation (closed model, {@code --concurrency} in flight), one call at a time
 * (closed, 1), half of bare's saturation rate (open model) and the gRPC-versus-REST equal load
 * (open model at half of the lower of bare's and REST's saturation rates). The rates come from a
 * short calibration run of bare and REST first. Each measured run follows an unrecorded warm-up run
 * of the same shape; the server's CPU time is read from {@code /proc} around the measured run.
 */
final class LoadStep {
  private static final Logger log = LoggerFactory.getLogger(LoadStep.class);
  static final List<String> KINDS =
      List.of("bare", "bare-fixed", "chassis", "chassis-full", "rest");
  private static final Duration BETWEEN_PHASES_WARMUP = Duration.ofSeconds(2);

  /** One measured run. */
  record Run(
      String kind,
      String phase,
      int repeat,
      JsonNode load,
      double serverCpuSeconds,
      double clientCpuSeconds) {
    double throughput() {
      return load.path("throughput").asDouble(Double.NaN);
    }

    double latency(String field) {
      return load.path("latency_us").path(field).asDouble(Double.NaN);
    }

    long count() {
      return load.path("count").asLong();
    }

    long errors() {
      return load.path("errors").asLong() + load.path("unfinished").asLong();
    }

    double serverMicrosPerCall() {
      return count() == 0 ? Double.NaN : serverCpuSeconds * 1e6 / count();
    }

    double serverCpuShare() {
      double seconds = load.path("seconds").asDouble();
      return seconds == 0 ? Double.NaN : serverCpuSeconds / seconds;
    }
  }

  private final Suite suite;
  private final List<Run> runs = new ArrayList<>();
  private double halfRate;
  private double equalRate;

  LoadStep(Suite suite) {
    this.suite = suite;
  }

  void run() throws Exception {
    // Pass 1: saturation and one call at a time.
    for (int repeat = 0; repeat < suite.options().repeats; repeat++) {
      for (int i = 0; i < KINDS.size(); i++) {
        String kind = KINDS.get((i + repeat) % KINDS.size());
        log.info("repeat {}: {}", repeat + 1, kind);
        try (ServerProcess server = ServerProcess.start(suite, kind, List.of())) {
          int concurrency = suite.options().concurrency;
          measure(server, "saturation", repeat, closed(concurrency), suite.options().warmup);
          measure(server, "one-at-a-time", repeat, closed(1), BETWEEN_PHASES_WARMUP);
        }
      }
    }
    // Pass 2: open-model loads at rates taken from pass 1's saturation medians.
    double bareSaturation = byKind("saturation", Run::throughput).get("bare").median();
    // The lowest REST repeat: its saturation varies more than gRPC's, and the equal load must be
    // one that both sides sustain.
    double restSaturation = byKind("saturation", Run::throughput).get("rest").min();
    halfRate = Math.max(1, Math.round(bareSaturation / 2));
    equalRate = Math.max(1, Math.round(Math.min(bareSaturation, restSaturation) / 2));
    log.info(
        "saturation: bare median {}/s, rest lowest {}/s; half load {}/s, equal load {}/s",
        Math.round(bareSaturation),
        Math.round(restSaturation),
        Math.round(halfRate),
        Math.round(equalRate));
    for (int repeat = 0; repeat < suite.options().repeats; repeat++) {
      for (int i = 0; i < KINDS.size(); i++) {
        String kind = KINDS.get((i + repeat) % KINDS.size());
        log.info("repeat {}: {} (open model)", repeat + 1, kind);
        try (ServerProcess server = ServerProcess.start(suite, kind, List.of())) {
          Duration warmup = suite.options().warmup;
          if (!kind.equals("rest")) {
            measure(server, "half-load", repeat, open(halfRate), warmup);
            warmup = BETWEEN_PHASES_WARMUP;
          }
          if (!kind.equals("chassis-full") && !kind.equals("bare-fixed")) {
            measure(server, "equal-load", repeat, open(equalRate), warmup);
          }
        }
      }
    }
    report();
  }

  private void measure(
      ServerProcess server, String phase, int repeat, List<String> model, Duration warmup)
      throws Exception {
    load(server, model, warmup);
    double serverBefore = server.process().cpuSeconds();
    double clientBefore = ChildProcess.cpuSeconds(ProcessHandle.current().pid());
    JsonNode result = load(server, model, suite.options().duration);
    Run run =
        new Run(
            server.kind(),
            phase,
            repeat,
            result,
            server.process().cpuSeconds() - serverBefore,
            ChildProcess.cpuSeconds(ProcessHandle.current().pid()) - clientBefore);
    runs.add(run);
    ObjectNode raw = Report.JSON.createObjectNode();
    raw.put("kind", run.kind()).put("phase", phase).put("repeat", repeat);
    raw.put("server_cpu_s", run.serverCpuSeconds()).put("client_cpu_s", run.clientCpuSeconds());
    raw.set("load", result);
    suite.report().raw("load", raw);
    log.info(
        "  {} {}: {}/s, p50 {} µs, p99 {} µs, errors {}, server CPU {} µs/call",
        server.kind(),
        phase,
        Math.round(run.throughput()),
        Math.round(run.latency("p50")),
        Math.round(run.latency("p99")),
        run.errors(),
        Math.round(run.serverMicrosPerCall()));
  }

  static List<String> closed(int concurrency) {
    return List.of("--concurrency", Integer.toString(concurrency));
  }

  private static List<String> open(double rate) {
    return List.of("--rate", Long.toString(Math.round(rate)));
  }

  /** Runs LoadMain in this JVM against {@code server} for {@code window}; returns its JSON. */
  static JsonNode load(ServerProcess server, List<String> model, Duration window) throws Exception {
    List<String> args = new ArrayList<>();
    args.add("127.0.0.1:" + server.port());
    if (server.kind().equals("rest")) {
      args.add("--rest");
      args.add("GET /v1/users/{id}");
    } else {
      args.add("--method");
      args.add("GetUser");
    }
    args.addAll(model);
    args.addAll(List.of("--duration", window.toMillis() + "ms"));
    return loadMain(args);
  }

  /**
   * Runs {@link LoadMain} in this JVM with {@code args} plus {@code --json} and returns its JSON.
   *
   * @throws IOException when it exits non-zero
   */
  static JsonNode loadMain(List<String> args) throws Exception {
    List<String> all = new ArrayList<>(args);
    all.add("--json");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      exit = LoadMain.run(all.toArray(String[]::new), o, e);
    }
    if (exit != 0) {
      throw new IOException(
          "LoadMain " + all + " exited " + exit + ": " + err.toString(StandardCharsets.UTF_8));
    }
    String text = out.toString(StandardCharsets.UTF_8).strip();
    return Report.JSON.readTree(text.substring(text.lastIndexOf('\n') + 1));
  }

  private Map<String, Samples> byKind(String phase, ToDoubleFunction<Run> metric) {
    Map<String, Samples> samples = new LinkedHashMap<>();
    for (String kind : KINDS) {
      samples.put(kind, new Samples());
    }
    for (Run run : runs) {
      if (run.phase().equals(phase)) {
        samples.get(run.kind()).add(metric.applyAsDouble(run));
      }
    }
    return samples;
  }

  private long errors(String phase, String kind) {
    long errors = 0;
    for (Run run : runs) {
      if (run.phase().equals(phase) && run.kind().equals(kind)) {
        errors += run.errors();
      }
    }
    return errors;
  }

  private void report() {
    SuiteOptions options = suite.options();
    String shape =
        Report.format(
            "%d repeats, interleaved; %.0f s measured after a warm-up run; GetUser of a seeded"
                + " user (REST: `GET /v1/users/{id}`); one connection per gRPC client, HTTP/1.1"
                + " keep-alive connections as needed for REST",
            options.repeats, options.duration.toMillis() / 1000.0);
    String spread = "Cells: median of the repeats (lowest–highest).";

    // Saturation.
    Map<String, Samples> throughput = byKind("saturation", Run::throughput);
    Map<String, Samples> cpu = byKind("saturation", Run::serverMicrosPerCall);
    Map<String, Samples> cpuShare = byKind("saturation", run -> 100 * run.serverCpuShare());
    Map<String, Samples> satP99 = byKind("saturation", run -> run.latency("p99") / 1000);
    double bareThroughput = throughput.get("bare").median();
    double bareCpu = cpu.get("bare").median();
    MarkdownTable saturation =
        new MarkdownTable(
            "server",
            ">calls/s",
            ">vs bare",
            ">vs bare-fixed",
            ">server CPU µs/call",
            ">vs bare",
            ">server CPU use %",
            ">p99 ms",
            ">errors");
    for (String kind : KINDS) {
      saturation.row(
          kind,
          throughput.get(kind).describe(0),
          Samples.ratio(throughput.get(kind).median(), bareThroughput),
          Samples.ratio(throughput.get(kind).median(), throughput.get("bare-fixed").median()),
          cpu.get(kind).describe(1),
          Samples.ratio(cpu.get(kind).median(), bareCpu),
          cpuShare.get(kind).describe(0),
          satP99.get(kind).describe(2),
          errors("saturation", kind));
    }
    suite
        .report()
        .section(
            "Throughput at saturation (closed model, " + options.concurrency + " calls in flight)",
            shape + ". " + spread + "\n\n" + saturation);

    // One call at a time.
    Map<String, Samples> p50 = byKind("one-at-a-time", run -> run.latency("p50"));
    Map<String, Samples> p99 = byKind("one-at-a-time", run -> run.latency("p99"));
    Map<String, Samples> p999 = byKind("one-at-a-time", run -> run.latency("p99_9"));
    Map<String, Samples> mean = byKind("one-at-a-time", run -> run.latency("mean"));
    MarkdownTable single =
        new MarkdownTable(
            "server",
            ">p50 µs",
            ">p50 vs bare",
            ">p99 µs",
            ">p99 vs bare",
            ">p99.9 µs",
            ">mean µs",
            ">mean vs REST",
            ">errors");
    double bareP50 = p50.get("bare").median();
    double bareP99 = p99.get("bare").median();
    double restMean = mean.get("rest").median();
    for (String kind : KINDS) {
      single.row(
          kind,
          p50.get(kind).describe(0),
          Samples.delta(p50.get(kind).median(), bareP50, 0),
          p99.get(kind).describe(0),
          Samples.delta(p99.get(kind).median(), bareP99, 0),
          p999.get(kind).describe(0),
          mean.get(kind).describe(0),
          Samples.ratio(mean.get(kind).median(), restMean),
          errors("one-at-a-time", kind));
    }
    suite
        .report()
        .section(
            "Latency at one call at a time (closed model, 1 in flight)",
            spread + " Latency from send to answer, in µs.\n\n" + single);

    // Half load.
    Map<String, Samples> halfP50 = byKind("half-load", run -> run.latency("p50"));
    Map<String, Samples> halfP99 = byKind("half-load", run -> run.latency("p99"));
    Map<String, Samples> halfP999 = byKind("half-load", run -> run.latency("p99_9"));
    Map<String, Samples> halfAchieved = byKind("half-load", Run::throughput);
    MarkdownTable half =
        new MarkdownTable(
            "server", ">calls/s", ">p50 µs", ">p99 µs", ">p99 vs bare", ">p99.9 µs", ">errors");
    double halfBareP99 = halfP99.get("bare").median();
    for (String kind : List.of("bare", "bare-fixed", "chassis", "chassis-full")) {
      half.row(
          kind,
          halfAchieved.get(kind).describe(0),
          halfP50.get(kind).describe(0),
          halfP99.get(kind).describe(0),
          Samples.ratio(halfP99.get(kind).median(), halfBareP99),
          halfP999.get(kind).describe(0),
          errors("half-load", kind));
    }
    suite
        .report()
        .section(
            Report.format(
                "Latency at half of bare's saturation (open model, %,d calls/s)",
                Math.round(halfRate)),
            spread
                + " Open model: calls start on schedule whatever the server does; latency from"
                + " each call's intended start (no coordinated omission), in µs.\n\n"
                + half);

    // gRPC versus REST at equal load.
    Map<String, Samples> eqMean = byKind("equal-load", run -> run.latency("mean"));
    Map<String, Samples> eqP50 = byKind("equal-load", run -> run.latency("p50"));
    Map<String, Samples> eqP99 = byKind("equal-load", run -> run.latency("p99"));
    MarkdownTable equal =
        new MarkdownTable(
            "server", ">mean µs", ">mean vs REST", ">p50 µs", ">p99 µs", ">p99 vs REST", ">errors");
    double eqRestMean = eqMean.get("rest").median();
    double eqRestP99 = eqP99.get("rest").median();
    for (String kind : List.of("bare", "chassis", "rest")) {
      equal.row(
          kind,
          eqMean.get(kind).describe(0),
          Samples.ratio(eqMean.get(kind).median(), eqRestMean),
          eqP50.get(kind).describe(0),
          eqP99.get(kind).describe(0),
          Samples.ratio(eqP99.get(kind).median(), eqRestP99),
          errors("equal-load", kind));
    }
    suite
        .report()
        .section(
            Report.format(
                "gRPC versus REST/JSON at equal load (open model, %,d calls/s)",
                Math.round(equalRate)),
            spread
                + " The rate is half of the lower of bare's median and REST's lowest saturation"
                + " rate, a load both sustain.\n\n"
                + equal);

    // Targets.
    double chassisThroughput = throughput.get("chassis").median();
    double fullThroughput = throughput.get("chassis-full").median();
    suite
        .report()
        .target(
            "chassis default stack throughput ≥ 90% of bare at saturation",
            percent(chassisThroughput / bareThroughput), chassisThroughput >= 0.9 * bareThroughput);
    suite
        .report()
        .target(
            "everything on (every trace exported, every call logged) ≥ 75% of bare",
            percent(fullThroughput / bareThroughput), fullThroughput >= 0.75 * bareThroughput);
    double addedP50 = p50.get("chassis").median() - bareP50;
    double addedP99 = p99.get("chassis").median() - bareP99;
    suite
        .report()
        .target(
            "added p50 at one call at a time ≤ +15 µs",
            Report.format("%+.0f µs", addedP50),
            addedP50 <= 15);
    suite
        .report()
        .target(
            "added p99 at one call at a time ≤ +50 µs",
            Report.format("%+.0f µs", addedP99),
            addedP99 <= 50);
    double halfRatio = halfP99.get("chassis").median() / halfBareP99;
    suite
        .report()
        .target(
            "p99 at half of saturation ≤ 1.25× bare",
            Report.format("%.2f×", halfRatio),
            halfRatio <= 1.25);
    for (String kind : List.of("bare", "chassis")) {
      double lower = 1 - eqMean.get(kind).median() / eqRestMean;
      suite
          .report()
          .target(
              "gRPC (" + kind + ") mean latency ≥ 40% lower than REST/JSON at equal load",
              percent(lower) + " lower",
              lower >= 0.4);
    }
  }

  private static String percent(double fraction) {
    return Report.format("%.0f%%", fraction * 100);
  }
}
