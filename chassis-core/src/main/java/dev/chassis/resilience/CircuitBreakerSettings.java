package dev.chassis.resilience;

import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.grpc.Status;
import java.time.Duration;
import java.util.Set;

/**
 * How a client's circuit breaker behaves ({@code chassis.client.circuit-breaker.*}). Immutable.
 *
 * @param enabled whether calls go through a breaker at all
 * @param perMethod one breaker per method instead of one per target service
 * @param failureRateThreshold percentage (1..100) of failed calls in the window that opens it
 * @param slowCallRateThreshold percentage (1..100) of slow calls that opens it; 100 with the
 *     default duration means slowness alone rarely opens it
 * @param slowCallDurationThreshold calls longer than this count as slow
 * @param slidingWindowSize number of most recent calls considered
 * @param minimumNumberOfCalls calls needed in the window before the rates are evaluated
 * @param waitDurationInOpenState how long it stays open before letting probes through
 * @param permittedCallsInHalfOpenState probes allowed while half-open
 * @param failureCodes codes that count as failures; everything else (caller errors, client
 *     cancellations) counts as success or is ignored
 */
public record CircuitBreakerSettings(
    boolean enabled,
    boolean perMethod,
    float failureRateThreshold,
    float slowCallRateThreshold,
    Duration slowCallDurationThreshold,
    int slidingWindowSize,
    int minimumNumberOfCalls,
    Duration waitDurationInOpenState,
    int permittedCallsInHalfOpenState,
    Set<Status.Code> failureCodes) {

  /** Codes that mean the dependency is sick, not that the caller erred. */
  public static final Set<Status.Code> DEFAULT_FAILURE_CODES =
      Set.of(
          Status.Code.UNAVAILABLE,
          Status.Code.DEADLINE_EXCEEDED,
          Status.Code.INTERNAL,
          Status.Code.UNKNOWN,
          Status.Code.DATA_LOSS);

  public CircuitBreakerSettings {
    check(
        failureRateThreshold > 0 && failureRateThreshold <= 100,
        "failureRateThreshold",
        failureRateThreshold,
        "1..100");
    check(
        slowCallRateThreshold > 0 && slowCallRateThreshold <= 100,
        "slowCallRateThreshold",
        slowCallRateThreshold,
        "1..100");
    check(
        !slowCallDurationThreshold.isNegative() && !slowCallDurationThreshold.isZero(),
        "slowCallDurationThreshold",
        slowCallDurationThreshold,
        "> 0");
    check(slidingWindowSize > 0, "slidingWindowSize", slidingWindowSize, "> 0");
    check(minimumNumberOfCalls > 0, "minimumNumberOfCalls", minimumNumberOfCalls, "> 0");
    check(
        !waitDurationInOpenState.isNegative() && !waitDurationInOpenState.isZero(),
        "waitDurationInOpenState",
        waitDurationInOpenState,
        "> 0");
    check(
        permittedCallsInHalfOpenState > 0,
        "permittedCallsInHalfOpenState",
        permittedCallsInHalfOpenState,
        "> 0");
    check(!failureCodes.contains(Status.Code.OK), "failureCodes", failureCodes, "error codes only");
    failureCodes = Set.copyOf(failureCodes);
  }

  /** The defaults of {@code reference.conf}. */
  public static CircuitBreakerSettings ofDefaults() {
    return new CircuitBreakerSettings(
        true,
        false,
        50,
        100,
        Duration.ofSeconds(5),
        20,
        10,
        Duration.ofSeconds(10),
        3,
        DEFAULT_FAILURE_CODES);
  }

  CircuitBreakerConfig toResilience4j() {
    return CircuitBreakerConfig.custom()
        .failureRateThreshold(failureRateThreshold)
        .slowCallRateThreshold(slowCallRateThreshold)
        .slowCallDurationThreshold(slowCallDurationThreshold)
        .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
        .slidingWindowSize(slidingWindowSize)
        .minimumNumberOfCalls(minimumNumberOfCalls)
        .waitDurationInOpenState(waitDurationInOpenState)
        .permittedNumberOfCallsInHalfOpenState(permittedCallsInHalfOpenState)
        // The interceptor classifies by status; every error it reports is a failure.
        .recordException(t -> true)
        .build();
  }

  private static void check(boolean ok, String name, Object value, String expected) {
    if (!ok) {
      throw new IllegalArgumentException(name + ": " + value + " (expected: " + expected + ")");
    }
  }
}
