package dev.chassis.observability.metrics;

import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The meters of one method on one side (server, or client to one target), created once and reused
 * by every call: no meter lookup or tag allocation on the call path, and one duration timer per
 * status code, created the first time that code occurs.
 */
final class MethodMeters {
  /** gRFC A66's recommended latency bucket boundaries, in seconds. */
  static final double[] LATENCY_BUCKETS = {
    0.00001, 0.00005, 0.0001, 0.0003, 0.0006, 0.0008, 0.001, 0.002, 0.003, 0.004, 0.005, 0.006,
    0.008, 0.01, 0.013, 0.016, 0.02, 0.025, 0.03, 0.04, 0.05, 0.065, 0.08, 0.1, 0.13, 0.16, 0.2,
    0.25, 0.3, 0.4, 0.5, 0.65, 0.8, 1, 2, 5, 10, 20, 50, 100
  };

  private static final Duration[] LATENCY_SLOS = new Duration[LATENCY_BUCKETS.length];

  static {
    for (int i = 0; i < LATENCY_BUCKETS.length; i++) {
      LATENCY_SLOS[i] = Duration.ofNanos(Math.round(LATENCY_BUCKETS[i] * 1e9));
    }
  }

  private static final Status.Code[] CODES = Status.Code.values();

  // One MethodMeters per registry and meter identity: Micrometer hands back the meter registered
  // first for a name and tags, so a second instance would keep its own in-flight counter that no
  // scrape ever reads (two servers or two channels on one registry).
  private static final Map<MeterRegistry, ConcurrentMap<String, MethodMeters>> shared =
      Collections.synchronizedMap(new WeakHashMap<>());

  /** The meters of {@code method} on one side of {@code registry}, created once. */
  static MethodMeters of(
      MeterRegistry registry, String prefix, MethodDescriptor<?, ?> method, Tags extraTags) {
    ConcurrentMap<String, MethodMeters> byKey =
        shared.computeIfAbsent(registry, r -> new ConcurrentHashMap<>());
    String key = prefix + '|' + extraTags + '|' + method.getFullMethodName();
    return byKey.computeIfAbsent(key, k -> new MethodMeters(registry, prefix, method, extraTags));
  }

  final Counter started;
  final AtomicInteger active = new AtomicInteger();
  final Counter sentMessages;
  final Counter receivedMessages;
  private final MeterRegistry registry;
  private final String prefix;
  private final Tags tags;
  private final AtomicReferenceArray<Timer> durations = new AtomicReferenceArray<>(CODES.length);

  /**
   * @param prefix {@code grpc.server.call} or {@code grpc.client.call}
   * @param extraTags tags before the method's, such as {@code grpc.target} for clients
   */
  MethodMeters(
      MeterRegistry registry, String prefix, MethodDescriptor<?, ?> method, Tags extraTags) {
    this.registry = registry;
    this.prefix = prefix;
    this.tags =
        extraTags.and(
            "grpc.method", method.getFullMethodName(), "grpc.method_type", method.getType().name());
    this.started =
        Counter.builder(prefix + ".started")
            .description("Calls started")
            .tags(tags)
            .register(registry);
    Gauge.builder(prefix + ".active", active, AtomicInteger::get)
        .description("Calls in flight")
        .tags(tags)
        .strongReference(true)
        .register(registry);
    this.sentMessages =
        Counter.builder(prefix + ".sent_messages")
            .description("Messages sent")
            .tags(tags)
            .register(registry);
    this.receivedMessages =
        Counter.builder(prefix + ".rcvd_messages")
            .description("Messages received")
            .tags(tags)
            .register(registry);
  }

  /** Records a completed call. */
  void completed(Status.Code code, long durationNanos) {
    active.decrementAndGet();
    duration(code).record(durationNanos, TimeUnit.NANOSECONDS);
  }

  private Timer duration(Status.Code code) {
    Timer timer = durations.get(code.ordinal());
    if (timer == null) {
      timer =
          Timer.builder(prefix + ".duration")
              .description("Call duration, from start to status, by status code")
              .tags(tags)
              .tag("grpc.status", CODES[code.ordinal()].name())
              .serviceLevelObjectives(LATENCY_SLOS)
              .register(registry);
      durations.compareAndSet(code.ordinal(), null, timer);
    }
    return timer;
  }
}
