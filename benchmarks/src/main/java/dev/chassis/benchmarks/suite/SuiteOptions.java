package dev.chassis.benchmarks.suite;

import dev.chassis.benchmarks.load.LoadMain;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** The command-line flags of {@link BenchmarkSuite}; {@link #USAGE} lists them. */
final class SuiteOptions {
  static final List<String> ALL_STEPS =
      List.of("load", "cross", "jmh", "startup", "wire", "profile", "shedding");

  static final String USAGE =
      String.join(
          "\n",
          "Usage: BenchmarkSuite [flags]",
          "  --steps a,b,...       steps to run, in this order: " + String.join(",", ALL_STEPS),
          "                        (default: all)",
          "  --repeats N           interleaved repeats of each load configuration (default 3)",
          "  --duration D          measured time of each load run (default 10s)",
          "  --warmup D            warm-up before the first run on a fresh server (default 5s)",
          "  --concurrency C       calls in flight for the saturation runs (default 64)",
          "  --server-cpus LIST    taskset CPU list for servers (default: the last CPU when",
          "                        there are 2 or more and taskset exists; empty: no pinning)",
          "  --startup-runs N      sample start-ups measured (default 5)",
          "  --sample-jar PATH     (default sample-user-service/target/sample-user-service.jar)",
          "  --out DIR             results directory (default benchmarks/target/results)",
          "  --quick               1 repeat, 2 s runs, short JMH: to check the suite works");

  Set<String> steps = new LinkedHashSet<>(ALL_STEPS);
  int repeats = 3;
  Duration duration = Duration.ofSeconds(10);
  Duration warmup = Duration.ofSeconds(5);
  int concurrency = 64;
  String serverCpus = defaultServerCpus();
  int startupRuns = 5;
  Path sampleJar = Path.of("sample-user-service/target/sample-user-service.jar");
  Path out = Path.of("benchmarks/target/results");
  boolean quick;

  static SuiteOptions parse(String[] args) {
    SuiteOptions options = new SuiteOptions();
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (flag.equals("--quick")) {
        options.quick = true;
        options.repeats = 1;
        options.duration = Duration.ofSeconds(2);
        options.warmup = Duration.ofSeconds(2);
        options.startupRuns = 2;
        continue;
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(flag + ": missing value");
      }
      String value = args[++i];
      switch (flag) {
        case "--steps" -> {
          Set<String> steps = new LinkedHashSet<>();
          for (String step : value.split(",")) {
            if (!ALL_STEPS.contains(step.trim())) {
              throw new IllegalArgumentException(
                  "--steps: " + step + " (expected some of " + ALL_STEPS + ")");
            }
            steps.add(step.trim());
          }
          // Keep the canonical order whatever the flag's order.
          options.steps = new LinkedHashSet<>(ALL_STEPS);
          options.steps.retainAll(steps);
        }
        case "--repeats" -> options.repeats = positive(flag, value);
        case "--duration" -> options.duration = LoadMain.parseDuration(flag, value);
        case "--warmup" -> options.warmup = LoadMain.parseDuration(flag, value);
        case "--concurrency" -> options.concurrency = positive(flag, value);
        case "--server-cpus" -> options.serverCpus = value.trim();
        case "--startup-runs" -> options.startupRuns = positive(flag, value);
        case "--sample-jar" -> options.sampleJar = Path.of(value);
        case "--out" -> options.out = Path.of(value);
        default -> throw new IllegalArgumentException("unknown flag: " + flag);
      }
    }
    return options;
  }

  private static int positive(String flag, String value) {
    try {
      int number = Integer.parseInt(value);
      if (number > 0) {
        return number;
      }
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + ": not a number: " + value, e);
    }
    throw new IllegalArgumentException(flag + ": " + value + " (expected: > 0)");
  }

  private static String defaultServerCpus() {
    return Tools.machineCpuCount() >= 2 && Tools.onPath("taskset")
        ? Integer.toString(Tools.lastCpu())
        : "";
  }
}
