package dev.chassis.resilience;

import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.grpc.ClientInterceptor;
import io.grpc.ServerInterceptor;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.function.Function;

/**
 * Factories for the client-side resilience interceptors and the server's deadline bounds. {@code
 * Chassis.channel} and the server builder install them from configuration; use these directly only
 * to build chains by hand. Server rate and concurrency limits: {@link ServerLimits}.
 */
public final class ResilienceInterceptors {
  private static final ScheduledExecutorService deadlineTimers = newDeadlineTimers();

  private ResilienceInterceptors() {}

  /**
   * Every call without a tighter deadline schedules a timer at the cap (minutes away) and cancels
   * it when it ends; without remove-on-cancel those cancelled timers would pile up in the queue
   * until they expire (measured: GC pauses and a 5x slower call path under load).
   */
  private static ScheduledExecutorService newDeadlineTimers() {
    ScheduledThreadPoolExecutor timers =
        new ScheduledThreadPoolExecutor(
            1,
            runnable -> {
              Thread thread = new Thread(runnable, "chassis-deadlines");
              thread.setDaemon(true);
              return thread;
            });
    timers.setRemoveOnCancelPolicy(true);
    return timers;
  }

  /**
   * A circuit breaker for calls to {@code target}: one breaker per target, or per method when
   * {@link CircuitBreakerSettings#perMethod()}. State, transitions and call counts are exported to
   * {@code meterRegistry} through resilience4j-micrometer ({@code resilience4j_circuitbreaker_*},
   * tag {@code name}); each transition is logged once at WARN.
   */
  public static ClientInterceptor circuitBreaker(
      CircuitBreakerSettings settings, String target, MeterRegistry meterRegistry) {
    CircuitBreakerRegistry registry = CircuitBreakerRegistry.ofDefaults();
    TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(registry).bindTo(meterRegistry);
    return new CircuitBreakerClientInterceptor(settings, registry, target);
  }

  /**
   * Gives calls without any deadline (none set, none inherited from an incoming call) the timeout
   * {@code timeoutForMethod} returns for their full method name; a zero duration means none.
   * Resolved once per method.
   */
  public static ClientInterceptor defaultDeadline(Function<String, Duration> timeoutForMethod) {
    return new DefaultDeadlineClientInterceptor(timeoutForMethod);
  }

  /**
   * Rejects calls whose deadline passed while they waited ({@code DEADLINE_EXCEEDED}, handler not
   * run) and caps the deadline handlers and their outgoing calls see at {@code max}.
   */
  public static ServerInterceptor deadlineBounds(Duration max) {
    if (max.isNegative() || max.isZero()) {
      throw new IllegalArgumentException("max: " + max + " (expected: > 0)");
    }
    return new DeadlineServerInterceptor(max, deadlineTimers);
  }
}
