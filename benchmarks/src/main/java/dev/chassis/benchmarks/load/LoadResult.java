package dev.chassis.benchmarks.load;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;

/**
 * The outcome of the measured calls of one run.
 *
 * @param model {@code closed} or {@code open}
 * @param target what was called
 * @param concurrency closed model: workers; open model: 0
 * @param rate open model: calls started per second; closed model: 0
 * @param seconds the measured window: the duration, or until the last of {@code --calls} ended
 * @param codes calls per outcome (gRPC status name, HTTP status, or {@code ERROR:...})
 * @param ok calls that succeeded
 * @param messages response messages received by the measured calls
 * @param latencyMicros latency of the calls that succeeded, microseconds; from the actual send
 *     (closed model) or the intended send (open model)
 * @param notSent open model: calls due while {@code --max-outstanding} were in flight
 * @param unfinished calls without an outcome when the run stopped waiting
 * @param sendLagMicros open model: how late calls were sent after their intended time
 */
record LoadResult(
    String model,
    String target,
    int concurrency,
    double rate,
    double seconds,
    Map<String, Long> codes,
    long ok,
    long messages,
    Histogram latencyMicros,
    long notSent,
    long unfinished,
    @Nullable Histogram sendLagMicros) {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Calls with an outcome. */
  long count() {
    long count = 0;
    for (long n : codes.values()) {
      count += n;
    }
    return count;
  }

  /** Calls that failed. */
  long errors() {
    return count() - ok;
  }

  /** Calls with an outcome per second of the window. */
  double throughput() {
    return seconds > 0 ? count() / seconds : 0;
  }

  /** A latency percentile in microseconds (100: the maximum); 0 when nothing succeeded. */
  long percentile(double percentile) {
    if (latencyMicros.getTotalCount() == 0) {
      return 0;
    }
    return percentile >= 100
        ? latencyMicros.getMaxValue()
        : latencyMicros.getValueAtPercentile(percentile);
  }

  /** Everything as one JSON object. */
  String toJson() {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("model", model);
    json.put("target", target);
    if (model.equals("closed")) {
      json.put("concurrency", concurrency);
    } else {
      json.put("rate", rate);
    }
    json.put("seconds", seconds);
    json.put("count", count());
    json.put("ok", ok);
    json.put("errors", errors());
    json.put("throughput", throughput());
    json.put("messages", messages);
    Map<String, Object> latency = new LinkedHashMap<>();
    latency.put("p50", percentile(50));
    latency.put("p90", percentile(90));
    latency.put("p99", percentile(99));
    latency.put("p99_9", percentile(99.9));
    latency.put("max", percentile(100));
    latency.put("mean", latencyMicros.getTotalCount() == 0 ? 0 : latencyMicros.getMean());
    json.put("latency_us", latency);
    json.put("codes", new TreeMap<>(codes));
    json.put("unfinished", unfinished);
    if (sendLagMicros != null) {
      json.put("not_sent", notSent);
      json.put(
          "send_lag_us",
          Map.of(
              "p99",
              sendLagMicros.getTotalCount() == 0 ? 0 : sendLagMicros.getValueAtPercentile(99),
              "max",
              sendLagMicros.getMaxValue()));
    }
    try {
      return JSON.writeValueAsString(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A human-readable summary. */
  String toText() {
    StringBuilder text = new StringBuilder();
    text.append(
        String.format(
            Locale.ROOT,
            "%s, %s model (%s)%n",
            target,
            model,
            model.equals("closed")
                ? "concurrency " + concurrency
                : String.format(Locale.ROOT, "rate %.1f/s", rate)));
    text.append(
        String.format(
            Locale.ROOT,
            "  Count: %d   Errors: %d   Window: %.2f s   Throughput: %.1f calls/s%n",
            count(),
            errors(),
            seconds,
            throughput()));
    text.append(
        String.format(
            Locale.ROOT,
            "  Latency of successful calls (µs): p50 %d   p90 %d   p99 %d   p99.9 %d   max %d%n",
            percentile(50),
            percentile(90),
            percentile(99),
            percentile(99.9),
            percentile(100)));
    StringBuilder codeList = new StringBuilder();
    for (Map.Entry<String, Long> entry : new TreeMap<>(codes).entrySet()) {
      codeList.append(codeList.length() == 0 ? "" : ", ");
      codeList.append(entry.getKey()).append(' ').append(entry.getValue());
    }
    text.append("  Status codes: ").append(codeList.length() == 0 ? "-" : codeList).append('\n');
    if (unfinished > 0) {
      text.append("  Unfinished: ").append(unfinished).append('\n');
    }
    if (sendLagMicros != null) {
      text.append(
          String.format(
              Locale.ROOT,
              "  Not sent: %d   Send lag (µs): p99 %d   max %d%n",
              notSent,
              sendLagMicros.getTotalCount() == 0 ? 0 : sendLagMicros.getValueAtPercentile(99),
              sendLagMicros.getMaxValue()));
    }
    return text.toString();
  }
}
