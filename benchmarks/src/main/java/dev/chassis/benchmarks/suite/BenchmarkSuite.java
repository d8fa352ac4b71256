package dev.chassis.benchmarks.suite;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs every benchmark of {@code docs/benchmarks.md} in one go and writes its tables to {@code
 * benchmarks/target/results/results.md} (raw figures in {@code raw.jsonl}, server logs under {@code
 * logs/}). {@code benchmarks/run.sh} builds the project and starts it pinned to the client CPUs;
 * servers run pinned to {@code --server-cpus}.
 *
 * <p>Steps: {@code load} (bare grpc-java, Chassis default and everything-on, REST/JSON side by
 * side; {@link LoadStep}), {@code cross} (h2load and grpc-java's qps_client), {@code jmh} (per-call
 * interceptor cost and allocation), {@code startup} (the sample jar: exec to first call, heap and
 * RSS), {@code wire} (bytes per call on the wire) and {@code profile} (where the CPU goes, from
 * JFR), {@code shedding} (goodput past saturation with and without concurrency limiting). {@code
 * --help} lists the flags.
 */
public final class BenchmarkSuite {
  private static final Logger log = LoggerFactory.getLogger(BenchmarkSuite.class);

  private BenchmarkSuite() {}

  /**
   * Runs the steps and prints the Markdown.
   *
   * @param args flags; {@code --help} lists them
   */
  public static void main(String[] args) throws Exception {
    if (List.of(args).contains("--help")) {
      System.out.println(SuiteOptions.USAGE);
      return;
    }
    SuiteOptions options;
    try {
      options = SuiteOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.err.println(SuiteOptions.USAGE);
      System.exit(2);
      return;
    }
    Suite suite =
        new Suite(
            options,
            System.getProperty("benchmarks.classpath", System.getProperty("java.class.path")),
            new Report(options.out));
    String header = header(options);
    long started = System.nanoTime();
    for (String step : options.steps) {
      log.info("step {}", step);
      long stepStarted = System.nanoTime();
      switch (step) {
        case "load" -> new LoadStep(suite).run();
        case "cross" -> new CrossCheckStep(suite).run();
        case "jmh" -> new JmhStep(suite).run();
        case "startup" -> new StartupStep(suite).run();
        case "wire" -> new WireStep(suite).run();
        case "profile" -> new ProfileStep(suite).run();
        case "shedding" -> new SheddingStep(suite).run();
        default -> throw new IllegalStateException(step);
      }
      log.info("step {} took {}", step, elapsed(stepStarted));
    }
    String text = suite.report().write(header + "\nWhole run: " + elapsed(started) + ".\n");
    System.out.println(text);
    log.info("written to {}", options.out.resolve("results.md").toAbsolutePath());
  }

  private static String elapsed(long startedNanos) {
    Duration duration = Duration.ofNanos(System.nanoTime() - startedNanos);
    return Report.format("%d min %02d s", duration.toMinutes(), duration.toSecondsPart());
  }

  private static String header(SuiteOptions options) {
    String when =
        DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")
            .withZone(ZoneOffset.UTC)
            .format(Instant.now());
    String pinning =
        options.serverCpus.isEmpty()
            ? "no CPU pinning (taskset missing or a single CPU)"
            : "servers pinned to CPU "
                + options.serverCpus
                + ", client (this suite) on CPU "
                + Tools.ownCpus();
    return Report.format(
        "Run of %s on %s: %d CPUs (%s), %s RAM, %s %s (%s), Linux %s; %s.%s",
        gitRevision(),
        when,
        Tools.machineCpuCount(),
        cpuModel(),
        memory(),
        System.getProperty("java.vm.name"),
        System.getProperty("java.runtime.version"),
        System.getProperty("java.vm.vendor"),
        System.getProperty("os.version"),
        pinning,
        options.quick ? " **Quick mode: figures are not comparable.**" : "");
  }

  private static String cpuModel() {
    return firstValue(Path.of("/proc/cpuinfo"), "model name", "unknown CPU");
  }

  private static String memory() {
    String kb = firstValue(Path.of("/proc/meminfo"), "MemTotal", "");
    try {
      long bytes = Long.parseLong(kb.replaceAll("[^0-9]", "")) * 1024;
      return Report.format("%.0f GiB", bytes / (double) (1L << 30));
    } catch (NumberFormatException e) {
      return "unknown";
    }
  }

  private static String firstValue(Path file, String key, String fallback) {
    try {
      for (String line : Files.readAllLines(file)) {
        if (line.startsWith(key)) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException e) {
      log.debug("cannot read {}: {}", file, e.toString());
    }
    return fallback;
  }

  private static String gitRevision() {
    try {
      String revision = Tools.output(List.of("git", "rev-parse", "--short", "HEAD")).strip();
      String dirty = Tools.output(List.of("git", "status", "--porcelain")).isBlank() ? "" : "+";
      return "`" + revision + dirty + "`";
    } catch (IOException e) {
      return "an unknown revision";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "an unknown revision";
    }
  }
}
