package dev.chassis.resilience;

import dev.chassis.errors.ServiceException;
import dev.chassis.security.PeerIdentities;
import dev.chassis.security.PeerIdentity;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.RateLimiterRegistry;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Admits a call when its rule's resilience4j {@link RateLimiter} has a permit right now, and
 * otherwise closes it with {@code RESOURCE_EXHAUSTED} and a {@code google.rpc.RetryInfo} before the
 * handler runs. See {@link ServerLimits#rateLimit}.
 */
final class RateLimitServerInterceptor implements ServerInterceptor {
  static final String REJECTED_METRIC = "chassis.server.rate_limited";

  private final Map<String, Rule> rules;
  private final Metadata.@Nullable Key<String> callerKey;
  private final boolean byPeerIdentity;
  private final RateLimiterRegistry meteredLimiters;
  private final MeterRegistry meterRegistry;
  private final CallerLimiters callers;
  private final ConcurrentMap<String, Optional<MethodLimit>> methods = new ConcurrentHashMap<>();

  /**
   * @param meteredLimiters where limiters shared by all callers are created, so that
   *     resilience4j-micrometer bound to it exports them; per-caller limiters stay out of it
   */
  RateLimitServerInterceptor(
      RateLimitSettings settings, RateLimiterRegistry meteredLimiters, MeterRegistry registry) {
    String header = settings.callerMetadataKey();
    this.byPeerIdentity = settings.callerIsPeerIdentity();
    this.callerKey =
        header == null ? null : Metadata.Key.of(header, Metadata.ASCII_STRING_MARSHALLER);
    this.meteredLimiters = meteredLimiters;
    this.meterRegistry = registry;
    this.callers = new CallerLimiters(settings.maxCallers());
    Map<String, Rule> byKey = new HashMap<>();
    settings.limits().forEach((key, rate) -> byKey.put(key, new Rule(key, rate)));
    this.rules = Map.copyOf(byKey);
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    MethodDescriptor<ReqT, RespT> method = call.getMethodDescriptor();
    Optional<MethodLimit> resolved = methods.get(method.getFullMethodName());
    if (resolved == null) {
      resolved = methods.computeIfAbsent(method.getFullMethodName(), name -> resolve(method));
    }
    if (resolved.isEmpty()) {
      return next.startCall(call, headers);
    }
    MethodLimit limit = resolved.get();
    RateLimiter limiter = limiterFor(limit.rule(), caller(call, headers));
    if (limiter.acquirePermission()) {
      return next.startCall(call, headers);
    }
    limit.rejected().increment();
    ServerLimits.reject(
        call,
        ServiceException.newBuilder(Status.Code.RESOURCE_EXHAUSTED, limit.rejectedMessage())
            .retryDelay(retryDelay(limiter))
            .build());
    return new ServerCall.Listener<>() {};
  }

  private Optional<MethodLimit> resolve(MethodDescriptor<?, ?> method) {
    String name = method.getFullMethodName();
    Rule rule = rules.get(name);
    String service = method.getServiceName();
    if (rule == null && service != null) {
      rule = rules.get(service);
    }
    if (rule == null) {
      rule = rules.get(RateLimitSettings.ANY_METHOD);
    }
    if (rule == null) {
      return Optional.empty();
    }
    Counter rejected =
        Counter.builder(REJECTED_METRIC)
            .description("Calls rejected by a rate limit (RESOURCE_EXHAUSTED)")
            .tag("grpc.method", name)
            .register(meterRegistry);
    return Optional.of(new MethodLimit(rule, rejected, "rate limit exceeded for " + name));
  }

  private @Nullable String caller(ServerCall<?, ?> call, Metadata headers) {
    if (byPeerIdentity) {
      return PeerIdentities.of(call).map(PeerIdentity::id).orElse(null);
    }
    return callerKey == null ? null : headers.get(callerKey);
  }

  private RateLimiter limiterFor(Rule rule, @Nullable String caller) {
    if (caller != null) {
      return callers.get(rule, caller);
    }
    RateLimiter shared = rule.shared;
    if (shared == null) {
      synchronized (rule) {
        shared = rule.shared;
        if (shared == null) {
          // Shared by all callers: metered under the rule's key. With per-caller limits this is
          // the anonymous callers' budget, kept out of the meters like the other callers'.
          shared =
              callerKey == null
                  ? meteredLimiters.rateLimiter(rule.key, rule.config)
                  : RateLimiter.of(rule.key, rule.config);
          rule.shared = shared;
        }
      }
    }
    return shared;
  }

  /** Until the limiter's next permit, rounded up to a millisecond; else a whole period. */
  private static Duration retryDelay(RateLimiter limiter) {
    if (limiter.getMetrics() instanceof AtomicRateLimiter.AtomicRateLimiterMetrics metrics) {
      long nanos = metrics.getNanosToWait();
      if (nanos > 0) {
        return Duration.ofMillis(TimeUnit.NANOSECONDS.toMillis(nanos + 999_999));
      }
    }
    return limiter.getRateLimiterConfig().getLimitRefreshPeriod();
  }

  /** How a limited method is limited, resolved once per method. */
  private record MethodLimit(Rule rule, Counter rejected, String rejectedMessage) {}

  /** A configured key and its rate. */
  private static final class Rule {
    final String key;
    final RateLimiterConfig config;

    /** For callers without identity; created on first use. */
    volatile @Nullable RateLimiter shared;

    Rule(String key, RateLimitSettings.Rate rate) {
      this.key = key;
      this.config =
          RateLimiterConfig.custom()
              .limitForPeriod(rate.permits())
              .limitRefreshPeriod(rate.period())
              // Never wait for a permit: over the rate, the call is rejected at once.
              .timeoutDuration(Duration.ZERO)
              .build();
    }
  }

  private record CallerKey(Rule rule, String caller) {}

  /**
   * One limiter per (rule, caller), at most {@code max} of them, least recently used evicted first.
   * Kept out of the metered registry: caller values (API keys) must not become metric tags, and
   * thousands of them would flood {@code /metrics}.
   */
  private static final class CallerLimiters {
    private final LinkedHashMap<CallerKey, RateLimiter> limiters;

    @SuppressWarnings("serial") // never serialized
    CallerLimiters(int max) {
      this.limiters =
          new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<CallerKey, RateLimiter> eldest) {
              return size() > max;
            }
          };
    }

    RateLimiter get(Rule rule, String caller) {
      CallerKey key = new CallerKey(rule, caller);
      synchronized (limiters) {
        RateLimiter limiter = limiters.get(key);
        if (limiter == null) {
          limiter = RateLimiter.of(rule.key, rule.config);
          limiters.put(key, limiter);
        }
        return limiter;
      }
    }
  }
}
