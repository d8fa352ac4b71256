package dev.chassis.benchmarks.cross;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * What one h2load run printed, parsed from its text output (nghttp2 1.52). h2load prints no
 * percentiles: only min, max, mean and standard deviation of the request time. {@link H2load} adds
 * percentiles computed from h2load's own per-request {@code --log-file} as {@code
 * logLatencyMicros}.
 *
 * <p>h2load counts a request as succeeded when its stream ended with an HTTP status below 400; a
 * gRPC error answered with HTTP 200 and {@code grpc-status} in the trailers is a success to it.
 * Compare {@link #succeeded()} with the server's own count ({@link H2load#compareWithServer}).
 *
 * @param seconds the {@code finished in} time (warm-up included in timing-based runs)
 * @param requestsPerSecond h2load's req/s (over the main duration in timing-based runs)
 * @param total requests h2load counted (measured ones only in timing-based runs)
 * @param started requests started
 * @param done requests done
 * @param succeeded requests ended with an HTTP status below 400
 * @param failed requests that failed (errored ones included)
 * @param errored requests that ended in a stream or connection error
 * @param timeout requests that timed out
 * @param status2xx responses with a 2xx status
 * @param status3xx responses with a 3xx status
 * @param status4xx responses with a 4xx status
 * @param status5xx responses with a 5xx status
 * @param trafficBytes bytes received in total
 * @param requestMinMicros shortest request time, microseconds
 * @param requestMaxMicros longest request time, microseconds
 * @param requestMeanMicros mean request time, microseconds
 * @param requestSdMicros standard deviation of the request time, microseconds
 * @param logLatencyMicros percentiles of the request times in h2load's log file (keys {@code
 *     count}, {@code p50}, {@code p90}, {@code p99}, {@code p99.9}, {@code max}), or null
 */
public record H2loadResult(
    double seconds,
    double requestsPerSecond,
    long total,
    long started,
    long done,
    long succeeded,
    long failed,
    long errored,
    long timeout,
    long status2xx,
    long status3xx,
    long status4xx,
    long status5xx,
    long trafficBytes,
    double requestMinMicros,
    double requestMaxMicros,
    double requestMeanMicros,
    double requestSdMicros,
    @Nullable Map<String, Long> logLatencyMicros) {

  private static final Pattern FINISHED =
      Pattern.compile("finished in ([0-9.]+)(us|ms|s), ([0-9.]+) req/s");
  private static final Pattern REQUESTS =
      Pattern.compile(
          "requests: (\\d+) total, (\\d+) started, (\\d+) done, (\\d+) succeeded, (\\d+) failed,"
              + " (\\d+) errored, (\\d+) timeout");
  private static final Pattern STATUS =
      Pattern.compile("status codes: (\\d+) 2xx, (\\d+) 3xx, (\\d+) 4xx, (\\d+) 5xx");
  private static final Pattern TRAFFIC = Pattern.compile("traffic: \\S+ \\((\\d+)\\) total");
  private static final String TIME = "([0-9.]+)(us|ms|s)";
  private static final Pattern REQUEST_TIME =
      Pattern.compile(
          "time for request:\\s+" + TIME + "\\s+" + TIME + "\\s+" + TIME + "\\s+" + TIME);

  /**
   * Parses h2load's output.
   *
   * @throws IllegalArgumentException when a summary line is missing (h2load failed early)
   */
  public static H2loadResult parse(String output) {
    Matcher finished = find(FINISHED, output);
    Matcher requests = find(REQUESTS, output);
    Matcher status = find(STATUS, output);
    Matcher traffic = find(TRAFFIC, output);
    Matcher time = find(REQUEST_TIME, output);
    return new H2loadResult(
        micros(finished.group(1), finished.group(2)) / 1e6,
        Double.parseDouble(finished.group(3)),
        Long.parseLong(requests.group(1)),
        Long.parseLong(requests.group(2)),
        Long.parseLong(requests.group(3)),
        Long.parseLong(requests.group(4)),
        Long.parseLong(requests.group(5)),
        Long.parseLong(requests.group(6)),
        Long.parseLong(requests.group(7)),
        Long.parseLong(status.group(1)),
        Long.parseLong(status.group(2)),
        Long.parseLong(status.group(3)),
        Long.parseLong(status.group(4)),
        Long.parseLong(traffic.group(1)),
        micros(time.group(1), time.group(2)),
        micros(time.group(3), time.group(4)),
        micros(time.group(5), time.group(6)),
        micros(time.group(7), time.group(8)),
        null);
  }

  /** A copy with {@code logLatencyMicros} set. */
  public H2loadResult withLogLatency(@Nullable Map<String, Long> percentiles) {
    return new H2loadResult(
        seconds,
        requestsPerSecond,
        total,
        started,
        done,
        succeeded,
        failed,
        errored,
        timeout,
        status2xx,
        status3xx,
        status4xx,
        status5xx,
        trafficBytes,
        requestMinMicros,
        requestMaxMicros,
        requestMeanMicros,
        requestSdMicros,
        percentiles);
  }

  /** The fields as JSON-ready values, in declaration order, snake_case keys. */
  public Map<String, Object> toMap() {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("seconds", seconds);
    map.put("requests_per_second", requestsPerSecond);
    map.put("total", total);
    map.put("started", started);
    map.put("done", done);
    map.put("succeeded", succeeded);
    map.put("failed", failed);
    map.put("errored", errored);
    map.put("timeout", timeout);
    Map<String, Long> codes = new LinkedHashMap<>();
    codes.put("2xx", status2xx);
    codes.put("3xx", status3xx);
    codes.put("4xx", status4xx);
    codes.put("5xx", status5xx);
    map.put("status_codes", codes);
    map.put("traffic_bytes", trafficBytes);
    Map<String, Object> request = new LinkedHashMap<>();
    request.put("min", requestMinMicros);
    request.put("max", requestMaxMicros);
    request.put("mean", requestMeanMicros);
    request.put("sd", requestSdMicros);
    map.put("request_time_us", request);
    if (logLatencyMicros != null) {
      map.put("log_latency_us", logLatencyMicros);
    }
    return map;
  }

  private static Matcher find(Pattern pattern, String output) {
    Matcher matcher = pattern.matcher(output);
    if (!matcher.find()) {
      throw new IllegalArgumentException(
          "h2load output has no line matching " + pattern.pattern() + ":\n" + output);
    }
    return matcher;
  }

  /** h2load's durations ({@code 159us}, {@code 2.15ms}, {@code 3.00s}) in microseconds. */
  static double micros(String value, String unit) {
    double number = Double.parseDouble(value);
    return switch (unit.toLowerCase(Locale.ROOT)) {
      case "us" -> number;
      case "ms" -> number * 1_000;
      case "s" -> number * 1_000_000;
      default -> throw new IllegalArgumentException("unit: " + unit);
    };
  }
}
