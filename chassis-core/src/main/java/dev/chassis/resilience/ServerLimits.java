package dev.chassis.resilience;

import io.github.resilience4j.micrometer.tagged.TaggedRateLimiterMetrics;
import io.github.resilience4j.ratelimiter.RateLimiterRegistry;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Factories for the server's load-shedding interceptors: rate limits (calls per period) and a
 * concurrency limit (calls at once). Both reject before the handler runs, with {@code
 * RESOURCE_EXHAUSTED}; a rejected call costs the server no handler work.
 *
 * <p>The Chassis server installs them from configuration in front of error mapping; use these to
 * build chains by hand. Put the rate limit outside the concurrency limit so calls over the rate
 * never take a concurrency slot.
 */
public final class ServerLimits {
  private ServerLimits() {}

  /**
   * Limits calls per period by method, service or for everything, optionally per caller; see {@link
   * RateLimitSettings} for keys and matching.
   *
   * <p>Each rule (and, with {@link RateLimitSettings#callerMetadataKey()}, each rule and caller)
   * has one resilience4j {@code RateLimiter}, created on its first call. A call, unary or
   * streaming, takes one permit when it starts, without waiting. Without a permit the call is
   * closed at once, before the handler runs, with {@code RESOURCE_EXHAUSTED}, the description
   * {@code "rate limit exceeded for <full method name>"}, and a {@code google.rpc.RetryInfo} whose
   * delay is the time until the limiter's next permit (rounded up to a millisecond).
   *
   * <p>Metrics in {@code registry}: {@code chassis.server.rate_limited} counts rejected calls (tag
   * {@code grpc.method}); the limiters shared by all callers are exported by
   * resilience4j-micrometer as {@code resilience4j.ratelimiter.available.permissions} and {@code
   * resilience4j.ratelimiter.waiting_threads} (tag {@code name}: the rule's key). Per-caller
   * limiters are not exported: caller identities such as API keys must not become metric labels.
   *
   * @param settings the rules and how callers are told apart
   * @param registry where the metrics go
   */
  public static ServerInterceptor rateLimit(RateLimitSettings settings, MeterRegistry registry) {
    RateLimiterRegistry limiters = RateLimiterRegistry.ofDefaults();
    TaggedRateLimiterMetrics.ofRateLimiterRegistry(limiters).bindTo(registry);
    return new RateLimitServerInterceptor(settings, limiters, registry);
  }

  /**
   * Limits how many calls the server handles at once, streaming calls included: a call holds a slot
   * from its start until it ends, and a call that finds no free slot is closed at once, before the
   * handler runs, with {@code RESOURCE_EXHAUSTED}, the description {@code "server overloaded: too
   * many concurrent calls"} and a {@code google.rpc.RetryInfo} of 100 ms (a hint that slots free up
   * quickly; clients should still back off with jitter).
   *
   * <p>A call ends when it is closed (by the handler or the error mapping) or cancelled (by the
   * client, or its deadline). grpc delivers a cancellation to the call in order with its other
   * callbacks, so a handler still blocking its thread in a cancelled call keeps the slot until it
   * returns: the slot tracks the work, not just the connection. A long-lived stream served
   * asynchronously frees its slot as soon as the client goes away. A slot is given back exactly
   * once, also when starting the call throws.
   *
   * <p>With an adaptive {@link ConcurrencyLimitSettings.Mode}, the limit follows the latency of
   * unary calls. A unary call ending in {@code DEADLINE_EXCEEDED} or {@code CANCELLED} (including a
   * client cancellation) is reported as dropped, any other status as a success: calls that outlived
   * their caller's patience are the signature of latency collapse, and reporting them as drops
   * makes the limit back off (Vegas lowers it on every drop; Gradient2 takes in their long latency)
   * instead of ignoring exactly the calls that show the overload. Streaming calls hold a slot while
   * open but are never samples, since how long a stream stays open says nothing about how loaded
   * the server is.
   *
   * <p>Metrics in {@code registry}: gauges {@code chassis.server.concurrency.limit} (the current
   * limit) and {@code chassis.server.concurrency.in_flight} (calls holding a slot), and counter
   * {@code chassis.server.concurrency.rejected} (tag {@code grpc.method}). One concurrency limit
   * per server and registry: the gauges have no tags.
   *
   * @param settings the mode and its limits
   * @param registry where the metrics go
   */
  public static ServerInterceptor concurrencyLimit(
      ConcurrencyLimitSettings settings, MeterRegistry registry) {
    // The interceptor is also AutoCloseable: closing it removes its gauges (ChassisServer does at
    // stop), so a later server on the same registry reports its own limiter.
    return new ConcurrencyLimitServerInterceptor(settings, registry);
  }

  /** Closes {@code call} with the exception's status and trailers (its status details). */
  static void reject(ServerCall<?, ?> call, StatusRuntimeException exception) {
    Metadata trailers = exception.getTrailers();
    call.close(exception.getStatus(), trailers == null ? new Metadata() : trailers);
  }
}
