package dev.chassis.benchmarks;

import dev.chassis.ChassisConfig;
import dev.chassis.server.ChassisServer;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;

/**
 * Drives a Chassis server past its capacity, with and without the concurrency limit, and prints
 * goodput and latency as Markdown tables.
 *
 * <p><b>The server</b> is a real {@link ChassisServer}: Netty on 127.0.0.1 and the full Chassis
 * interceptor chain, with the admin endpoint, access log, span export and signal handling off. It
 * serves {@link SimulatedDependencyService}, whose calls each hold one of {@code --threads} handler
 * threads for {@code --service-ms} without using CPU, so the nominal capacity is {@code threads /
 * service time} calls per second (1600/s by default) and the benchmark's own CPU use does not set
 * the ceiling. Every run gets a fresh server, metrics registry and channel.
 *
 * <p><b>The load</b> is open-model ({@link OpenLoopLoadGenerator}): calls start at a fixed rate
 * whatever the server does, each with a {@code --deadline-ms} deadline, and latency counts from
 * each call's intended start. Rates are multiples of the nominal capacity ({@code --loads}); each
 * is run once per limiting setting ({@code --limits}, see {@link LimitSetting}), {@code off}
 * meaning {@code chassis.limits.concurrency.enabled = false}.
 *
 * <p><b>Goodput</b> is calls per second that ended OK, which for a client with a deadline means:
 * answered in time. A server past saturation that queues everything keeps its threads busy but
 * answers too late, so its goodput collapses while the work it does stays at capacity; the
 * diagnostics table's "server work/s" (handler runs completed per second) shows that waste.
 *
 * <pre>{@code
 * java -cp ... dev.chassis.benchmarks.SaturationBenchmark --seconds 5 --warmup 2
 * }</pre>
 *
 * <p>Run with {@code --help} for every flag. Progress goes to stderr, the tables to stdout.
 */
public final class SaturationBenchmark {
  private static final Duration SAMPLE_PERIOD = Duration.ofMillis(100);

  private SaturationBenchmark() {}

  /**
   * Runs every load in {@code --loads} with every setting in {@code --limits} and prints the
   * tables.
   *
   * @param args command-line flags; {@code --help} lists them
   */
  public static void main(String[] args) throws Exception {
    BenchmarkOptions options;
    try {
      options = BenchmarkOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.err.println();
      System.err.println(BenchmarkOptions.USAGE);
      System.exit(2);
      return;
    }
    if (options == null) {
      System.out.println(BenchmarkOptions.USAGE);
      return;
    }
    PrintStream out = System.out;
    out.println(describe(options));
    List<Row> rows = new ArrayList<>();
    for (double load : options.loads) {
      for (LimitSetting limit : options.limits) {
        Row row = runOnce(options, limit, load);
        rows.add(row);
        System.err.printf(
            Locale.ROOT, "%.1fx %s: goodput %.0f/s%n", load, limit.label(), row.goodput());
      }
    }
    out.println();
    out.println(resultsTable(rows));
    out.println(diagnosticsTable(rows));
  }

  private static String describe(BenchmarkOptions options) {
    return String.format(
        Locale.ROOT,
        "Nominal capacity %.0f calls/s (%d handler threads, %s ms per call); client deadline %d ms;"
            + " %d s warm-up + %d s measured per run; %d CPUs; Java %s.",
        options.nominalCapacity(),
        options.threads,
        format(options.serviceMillis),
        options.deadlineMillis,
        options.warmupSeconds,
        options.seconds,
        Runtime.getRuntime().availableProcessors(),
        Runtime.version());
  }

  /** One run: a fresh server with {@code limit}, driven at {@code load} times nominal capacity. */
  private static Row runOnce(BenchmarkOptions options, LimitSetting limit, double load)
      throws Exception {
    // Let the previous run's garbage and closing threads go before this one starts.
    System.gc();
    TimeUnit.MILLISECONDS.sleep(500);

    ChassisConfig config =
        ChassisConfig.of(
            String.join(
                "\n",
                "chassis.service.name = saturation-benchmark",
                "chassis.grpc { host = \"127.0.0.1\", port = 0, reflection = false",
                "  executor-threads = " + options.threads + " }",
                "chassis.admin.port = -1",
                "chassis.logging.access-log.enabled = false",
                "chassis.limits.concurrency { " + limit.hocon() + " }",
                "chassis.shutdown { drain-delay = 0s, grace = 2s, handle-signals = false }"));
    LongAdder completedWork = new LongAdder();
    Duration serviceTime = Duration.ofNanos(Math.round(options.serviceMillis * 1_000_000));
    double rate = load * options.nominalCapacity();

    // A registry per run, so one server's concurrency gauges cannot shadow the next one's.
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (ChassisServer server =
        ChassisServer.newBuilder(config)
            .addService(SimulatedDependencyService.definition(serviceTime, completedWork))
            .meterRegistry(registry)
            // Spans would be exported nowhere; the tracing interceptor still runs.
            .openTelemetry(OpenTelemetry.noop())
            .start()) {
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", server.port())
              .usePlaintext()
              // Completion callbacks only count and record a latency: run them on the event loop.
              .directExecutor()
              .build();
      try (ServerProbe probe = new ServerProbe(registry, completedWork, SAMPLE_PERIOD)) {
        OpenLoopLoadGenerator.Result result =
            new OpenLoopLoadGenerator(
                    channel,
                    rate,
                    Duration.ofSeconds(options.warmupSeconds),
                    Duration.ofSeconds(options.seconds),
                    Duration.ofMillis(options.deadlineMillis),
                    options.maxOutstanding)
                .run();
        return new Row(
            rate,
            load,
            limit,
            result,
            probe.summary(result.measureStartNanos(), result.measureEndNanos()));
      } finally {
        channel.shutdownNow();
        channel.awaitTermination(5, TimeUnit.SECONDS);
      }
    } finally {
      registry.close();
    }
  }

  /** One run's line in the tables. */
  private record Row(
      double rate,
      double load,
      LimitSetting limit,
      OpenLoopLoadGenerator.Result result,
      ServerProbe.Summary server) {

    double goodput() {
      return result.count(Status.Code.OK) / result.seconds();
    }

    /**
     * Calls ending neither OK, DEADLINE_EXCEEDED nor RESOURCE_EXHAUSTED, or never sent or ended.
     */
    long otherFailures() {
      long other = result.notSent() + result.unfinished();
      for (Map.Entry<Status.Code, Long> entry : result.statusCounts().entrySet()) {
        if (!isReported(entry.getKey())) {
          other += entry.getValue();
        }
      }
      return other;
    }
  }

  /** Whether a status code has a column of its own. */
  private static boolean isReported(Status.Code code) {
    return code == Status.Code.OK
        || code == Status.Code.DEADLINE_EXCEEDED
        || code == Status.Code.RESOURCE_EXHAUSTED;
  }

  private static String resultsTable(List<Row> rows) {
    StringBuilder table = new StringBuilder();
    table.append(
        "| offered (calls/s) | × nominal | concurrency limit | goodput (OK/s) | OK share |"
            + " p50 OK (ms) | p99 OK (ms) | p99.9 OK (ms) | DEADLINE_EXCEEDED |"
            + " RESOURCE_EXHAUSTED | other |\n");
    table.append("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Row row : rows) {
      OpenLoopLoadGenerator.Result result = row.result();
      Histogram ok = result.okLatencyMicros();
      long intended = result.intended();
      table.append(
          String.format(
              Locale.ROOT,
              "| %.0f | %.1f | %s | %.0f | %.1f%% | %s | %s | %s | %d | %d | %d |%n",
              row.rate(),
              row.load(),
              row.limit().label(),
              row.goodput(),
              intended == 0 ? 0.0 : 100.0 * result.count(Status.Code.OK) / intended,
              percentile(ok, 50),
              percentile(ok, 99),
              percentile(ok, 99.9),
              result.count(Status.Code.DEADLINE_EXCEEDED),
              result.count(Status.Code.RESOURCE_EXHAUSTED),
              row.otherFailures()));
    }
    return table.toString();
  }

  private static String diagnosticsTable(List<Row> rows) {
    StringBuilder table = new StringBuilder();
    table.append(
        "| offered (calls/s) | concurrency limit | server work/s | limit mean (min..max) |"
            + " in flight mean | max OK (ms) | RESOURCE_EXHAUSTED p50 / p99 (ms) |"
            + " send lag p99 / max (ms) | not sent | unfinished | other statuses |\n");
    table.append("|---:|---|---:|---|---:|---:|---|---|---:|---:|---|\n");
    for (Row row : rows) {
      OpenLoopLoadGenerator.Result result = row.result();
      ServerProbe.Summary server = row.server();
      boolean limited = row.limit().enabled() && server.samples() > 1;
      table.append(
          String.format(
              Locale.ROOT,
              "| %.0f | %s | %.0f | %s | %s | %s | %s / %s | %s / %s | %d | %d | %s |%n",
              row.rate(),
              row.limit().label(),
              server.workPerSecond(),
              limited
                  ? String.format(
                      Locale.ROOT,
                      "%.0f (%.0f..%.0f)",
                      server.limitMean(),
                      server.limitMin(),
                      server.limitMax())
                  : "-",
              limited ? String.format(Locale.ROOT, "%.1f", server.inFlightMean()) : "-",
              percentile(result.okLatencyMicros(), 100),
              percentile(result.rejectedLatencyMicros(), 50),
              percentile(result.rejectedLatencyMicros(), 99),
              percentile(result.sendLagMicros(), 99),
              percentile(result.sendLagMicros(), 100),
              result.notSent(),
              result.unfinished(),
              otherStatuses(result)));
    }
    return table.toString();
  }

  private static String otherStatuses(OpenLoopLoadGenerator.Result result) {
    List<String> parts = new ArrayList<>();
    for (Map.Entry<Status.Code, Long> entry : result.statusCounts().entrySet()) {
      if (!isReported(entry.getKey())) {
        parts.add(entry.getKey() + " " + entry.getValue());
      }
    }
    return parts.isEmpty() ? "-" : String.join(", ", parts);
  }

  /** A percentile (100: the maximum) of a microsecond histogram in ms; "-" when it is empty. */
  private static String percentile(Histogram histogram, double percentile) {
    if (histogram.getTotalCount() == 0) {
      return "-";
    }
    long micros =
        percentile >= 100 ? histogram.getMaxValue() : histogram.getValueAtPercentile(percentile);
    return format(micros / 1000.0);
  }

  private static String format(double millis) {
    return String.format(Locale.ROOT, millis < 10 ? "%.2f" : "%.1f", millis);
  }
}
