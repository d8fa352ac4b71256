package dev.chassis.benchmarks.suite;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JMH microbenchmark of the per-call cost of the interceptors ({@code
 * dev.chassis.benchmarks.jmh.InterceptorChainBenchmark}), run with {@code -prof gc} on every CPU
 * (nothing else runs meanwhile); reports time and bytes allocated per call, and the overhead over
 * the bare call.
 */
final class JmhStep {
  static final String BENCHMARK = "dev.chassis.benchmarks.jmh.InterceptorChainBenchmark";

  private final Suite suite;

  JmhStep(Suite suite) {
    this.suite = suite;
  }

  /** One row of JMH's results. */
  private record Row(String chain, double nanos, double error, double bytes) {}

  void run() throws Exception {
    Path json = suite.report().dir().resolve("jmh.json").toAbsolutePath();
    List<String> command = new ArrayList<>();
    command.addAll(List.of(Tools.java(), "-cp", suite.classpath(), "org.openjdk.jmh.Main"));
    command.addAll(List.of(BENCHMARK, "-prof", "gc", "-rf", "json", "-rff", json.toString()));
    if (suite.options().quick) {
      command.addAll(List.of("-f", "1", "-wi", "1", "-w", "1s", "-i", "2", "-r", "1s"));
    }
    try (ChildProcess jmh =
        ChildProcess.startLogged(
            "jmh",
            // Every CPU: on one, JMH's own threads and the benchmark's compete (wide errors).
            Tools.pinned(Tools.onPath("taskset") ? Tools.machineCpus() : "", command),
            Map.of(),
            suite.report().dir().resolve("logs").resolve("jmh.log"))) {
      int exit = jmh.waitFor(Duration.ofMinutes(30));
      if (exit != 0) {
        throw new IOException("JMH exited " + exit + "; see logs/jmh.log");
      }
    }
    Map<String, Row> rows = new LinkedHashMap<>();
    for (JsonNode result : Report.JSON.readTree(json.toFile())) {
      String chain = result.path("params").path("chain").asText();
      JsonNode primary = result.path("primaryMetric");
      JsonNode secondary = result.path("secondaryMetrics");
      JsonNode alloc =
          secondary.has("gc.alloc.rate.norm")
              ? secondary.path("gc.alloc.rate.norm")
              : secondary.path("\u00b7gc.alloc.rate.norm");
      rows.put(
          chain,
          new Row(
              chain,
              primary.path("score").asDouble(),
              primary.path("scoreError").asDouble(Double.NaN),
              alloc.path("score").asDouble(Double.NaN)));
    }
    MarkdownTable table =
        new MarkdownTable(
            "chain", ">ns/call", ">± (99.9%)", ">overhead ns", ">bytes/call", ">overhead bytes");
    for (Row row : rows.values()) {
      Row base = base(rows);
      table.row(
          "`" + row.chain() + "`",
          Samples.number(row.nanos(), 0),
          Samples.number(row.error(), 0),
          row == base ? "" : Samples.delta(row.nanos(), base.nanos(), 0),
          Samples.number(row.bytes(), 0),
          row == base ? "" : Samples.delta(row.bytes(), base.bytes(), 0));
    }
    suite
        .report()
        .section(
            "Per-call cost of the interceptors (JMH)",
            "`"
                + BENCHMARK
                + "` with `-prof gc`: one unary call over grpc's in-process transport with direct"
                + " executors, so no thread hand-off or network hides the interceptors; the"
                + " overhead columns subtract the bare call (`none`; for `client-default`, the"
                + " same call without client interceptors). ± is JMH's 99.9% confidence"
                + " interval.\n\n"
                + table);
    allocationTarget(rows, "default", 1024, "default chain allocates < 1 KB per call");
    allocationTarget(rows, "full", 2560, "everything-on chain allocates < 2.5 KB per call");
  }

  private void allocationTarget(Map<String, Row> rows, String chain, double limit, String target) {
    Row row = rows.get(chain);
    if (row == null) {
      return;
    }
    double overhead = row.bytes() - base(rows).bytes();
    suite
        .report()
        .target(target, Report.format("%+.0f B over the bare call", overhead), overhead < limit);
  }

  /** The bare call every row is measured against (client rows too: the plain call). */
  private static Row base(Map<String, Row> rows) {
    return rows.getOrDefault("none", rows.values().iterator().next());
  }
}
