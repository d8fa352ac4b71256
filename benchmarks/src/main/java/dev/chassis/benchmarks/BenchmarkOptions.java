package dev.chassis.benchmarks;

import java.util.ArrayList;
import java.util.List;

/** The command-line flags of {@link SaturationBenchmark}; {@link #USAGE} lists them. */
final class BenchmarkOptions {
  static final String DEFAULT_LIMITS = "off,fixed,gradient2:20:4:200,gradient2:20:8:50,vegas";

  static final String USAGE =
      String.join(
          "\n",
          "Usage: SaturationBenchmark [flags]",
          "  --seconds N          measured seconds per run (default 10)",
          "  --warmup N           warm-up seconds per run, not measured (default 3)",
          "  --loads X,X,...      offered load as multiples of the nominal capacity",
          "                       (default 0.5,1,2,3)",
          "  --limits S,S,...     concurrency limit settings to run, each one of: off,",
          "                       fixed[:LIMIT] (LIMIT defaults to --threads),",
          "                       gradient2[:LIMIT:MIN:MAX] or vegas[:LIMIT:MIN:MAX]",
          "                       (numbers default to 20:4:200)",
          "                       (default " + DEFAULT_LIMITS + ")",
          "  --threads N          handler threads, chassis.grpc.executor-threads (default 8)",
          "  --service-ms X       time each call holds its handler thread (default 5)",
          "  --deadline-ms N      client deadline of every call (default 100)",
          "  --max-outstanding N  calls in flight at most; due calls beyond are not sent",
          "                       (default 20000)");

  int seconds = 10;
  int warmupSeconds = 3;
  List<Double> loads = List.of(0.5, 1.0, 2.0, 3.0);
  List<LimitSetting> limits = List.of();
  int threads = 8;
  double serviceMillis = 5;
  int deadlineMillis = 100;
  int maxOutstanding = 20_000;

  /** Calls per second the handler pool completes if every call takes exactly the service time. */
  double nominalCapacity() {
    return threads * 1000.0 / serviceMillis;
  }

  /**
   * Parses flags; returns null for {@code --help}.
   *
   * @throws IllegalArgumentException on an unknown flag or a bad value
   */
  static BenchmarkOptions parse(String[] args) {
    BenchmarkOptions options = new BenchmarkOptions();
    String limits = DEFAULT_LIMITS;
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (flag.equals("--help") || flag.equals("-h")) {
        return null;
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(flag + ": missing value");
      }
      String value = args[++i];
      try {
        switch (flag) {
          case "--seconds" -> options.seconds = positive(flag, Integer.parseInt(value));
          case "--warmup" -> options.warmupSeconds = notNegative(flag, Integer.parseInt(value));
          case "--loads" -> options.loads = parseLoads(value);
          case "--limits" -> limits = value;
          case "--threads" -> options.threads = positive(flag, Integer.parseInt(value));
          case "--service-ms" -> {
            options.serviceMillis = Double.parseDouble(value);
            if (!(options.serviceMillis > 0)) {
              throw new IllegalArgumentException(flag + ": " + value + " (expected: > 0)");
            }
          }
          case "--deadline-ms" -> options.deadlineMillis = positive(flag, Integer.parseInt(value));
          case "--max-outstanding" ->
              options.maxOutstanding = positive(flag, Integer.parseInt(value));
          default -> throw new IllegalArgumentException("unknown flag: " + flag);
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(flag + ": not a number: " + value, e);
      }
    }
    // After the loop: "fixed" without a number means the pool size, which --threads may change.
    List<LimitSetting> settings = new ArrayList<>();
    for (String spec : limits.split(",")) {
      settings.add(LimitSetting.parse(spec, options.threads));
    }
    options.limits = List.copyOf(settings);
    return options;
  }

  private static int positive(String flag, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(flag + ": " + value + " (expected: > 0)");
    }
    return value;
  }

  private static int notNegative(String flag, int value) {
    if (value < 0) {
      throw new IllegalArgumentException(flag + ": " + value + " (expected: >= 0)");
    }
    return value;
  }

  private static List<Double> parseLoads(String value) {
    List<Double> loads = new ArrayList<>();
    for (String part : value.split(",")) {
      double load = Double.parseDouble(part.trim());
      if (!(load > 0)) {
        throw new IllegalArgumentException("--loads: " + part + " (expected: > 0)");
      }
      loads.add(load);
    }
    return List.copyOf(loads);
  }
}
