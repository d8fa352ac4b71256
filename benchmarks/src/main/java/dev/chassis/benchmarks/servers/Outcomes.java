package dev.chassis.benchmarks.servers;

import io.grpc.Status;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Calls answered by a bench server, counted by gRPC status code (the REST server counts the code
 * its HTTP status stands for), so a foreign load generator's "succeeded" can be checked against
 * what the server actually answered. A call counts once, when its handler completes it (OK) or
 * fails it; a response lost on the wire after that still counts. Thread-safe; a {@link LongAdder}
 * per code, so handler threads do not contend on the OK counter.
 */
public final class Outcomes {
  private static final Status.Code[] CODES = Status.Code.values();

  private final LongAdder[] counts = new LongAdder[CODES.length];

  /** All counts zero. */
  public Outcomes() {
    for (int i = 0; i < counts.length; i++) {
      counts[i] = new LongAdder();
    }
  }

  /** Counts one call that ended with {@code code}. */
  public void record(Status.Code code) {
    counts[code.ordinal()].increment();
  }

  /** Calls counted so far that ended with {@code code}. */
  public long count(Status.Code code) {
    return counts[code.ordinal()].sum();
  }

  /** The codes seen so far (in code order) with their counts; codes never seen are left out. */
  public Map<String, Long> snapshot() {
    Map<String, Long> snapshot = new LinkedHashMap<>();
    for (Status.Code code : CODES) {
      long count = counts[code.ordinal()].sum();
      if (count > 0) {
        snapshot.put(code.name(), count);
      }
    }
    return snapshot;
  }

  /** {@link #snapshot()} as a JSON object, such as {@code {"OK":123,"NOT_FOUND":2}}. */
  public String toJson() {
    StringBuilder json = new StringBuilder("{");
    for (Map.Entry<String, Long> entry : snapshot().entrySet()) {
      if (json.length() > 1) {
        json.append(',');
      }
      json.append('"').append(entry.getKey()).append("\":").append(entry.getValue());
    }
    return json.append('}').toString();
  }
}
