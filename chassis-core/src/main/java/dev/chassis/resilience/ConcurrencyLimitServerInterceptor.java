package dev.chassis.resilience;

import com.netflix.concurrency.limits.Limit;
import com.netflix.concurrency.limits.Limiter;
import com.netflix.concurrency.limits.limit.FixedLimit;
import com.netflix.concurrency.limits.limit.Gradient2Limit;
import com.netflix.concurrency.limits.limit.VegasLimit;
import com.netflix.concurrency.limits.limiter.AbstractLimiter;
import com.netflix.concurrency.limits.limiter.SimpleLimiter;
import dev.chassis.errors.ServiceException;
import dev.chassis.internal.grpc.TrackedServerCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Consumer;

/**
 * Holds a slot of a concurrency-limits {@link SimpleLimiter} for the whole life of every call,
 * unary and streaming, and closes calls that find no free slot with {@code RESOURCE_EXHAUSTED}
 * before the handler runs. See {@link ServerLimits#concurrencyLimit}.
 */
final class ConcurrencyLimitServerInterceptor implements ServerInterceptor, AutoCloseable {
  static final String REJECTED_MESSAGE = "server overloaded: too many concurrent calls";
  static final Duration RETRY_DELAY = Duration.ofMillis(100);
  static final String LIMIT_METRIC = "chassis.server.concurrency.limit";
  static final String IN_FLIGHT_METRIC = "chassis.server.concurrency.in_flight";
  static final String REJECTED_METRIC = "chassis.server.concurrency.rejected";

  private final SimpleLimiter<String> limiter;
  private final MeterRegistry registry;
  private final List<Gauge> gauges;
  private final ConcurrentMap<String, Counter> rejected = new ConcurrentHashMap<>();

  /** Status details and trailers of a rejection, built once; copied into each rejected call. */
  private final ServiceException rejection =
      ServiceException.newBuilder(Status.Code.RESOURCE_EXHAUSTED, REJECTED_MESSAGE)
          .retryDelay(RETRY_DELAY)
          .build();

  ConcurrencyLimitServerInterceptor(ConcurrencyLimitSettings settings, MeterRegistry registry) {
    this.limiter =
        SimpleLimiter.newBuilder().named("chassis-server").limit(limit(settings)).build();
    this.registry = registry;
    this.gauges =
        List.of(
            Gauge.builder(LIMIT_METRIC, limiter, AbstractLimiter::getLimit)
                .description("Calls the server admits at once (current concurrency limit)")
                .strongReference(true)
                .register(registry),
            Gauge.builder(IN_FLIGHT_METRIC, limiter, AbstractLimiter::getInflight)
                .description("Calls holding a concurrency slot")
                .strongReference(true)
                .register(registry));
  }

  /**
   * Removes this limiter's gauges from the registry (the server calls it when it stops), so a later
   * server on the same registry reports its own limiter rather than this dead one.
   */
  @Override
  public void close() {
    gauges.forEach(registry::remove);
  }

  private static Limit limit(ConcurrencyLimitSettings settings) {
    return switch (settings.mode()) {
      case FIXED -> FixedLimit.of(settings.limit());
      case GRADIENT2 ->
          Gradient2Limit.newBuilder()
              .initialLimit(settings.limit())
              .minLimit(settings.minLimit())
              .maxConcurrency(settings.maxLimit())
              .build();
      case VEGAS ->
          new AtLeast(
              VegasLimit.newBuilder()
                  .initialLimit(settings.limit())
                  .maxConcurrency(settings.maxLimit())
                  .build(),
              settings.minLimit());
    };
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    MethodDescriptor<ReqT, RespT> method = call.getMethodDescriptor();
    Optional<Limiter.Listener> acquired = limiter.acquire(method.getFullMethodName());
    if (acquired.isEmpty()) {
      rejectedCounter(method.getFullMethodName()).increment();
      Metadata trailers = new Metadata();
      Metadata template = rejection.getTrailers();
      if (template != null) {
        trailers.merge(template);
      }
      call.close(rejection.getStatus(), trailers);
      return new ServerCall.Listener<>() {};
    }
    Slot slot = new Slot(acquired.get(), method.getType() == MethodDescriptor.MethodType.UNARY);
    return new LimitedCall<>(call, slot).start(headers, next);
  }

  private Counter rejectedCounter(String method) {
    Counter counter = rejected.get(method);
    if (counter == null) {
      counter =
          rejected.computeIfAbsent(
              method,
              m ->
                  Counter.builder(REJECTED_METRIC)
                      .description("Calls rejected by the concurrency limit (RESOURCE_EXHAUSTED)")
                      .tag("grpc.method", m)
                      .register(registry));
    }
    return counter;
  }

  /** A call's slot and how to give it back. */
  private static final class Slot {
    private final Limiter.Listener listener;
    private final boolean unary;

    Slot(Limiter.Listener listener, boolean unary) {
      this.listener = listener;
      this.unary = unary;
    }

    /**
     * Gives the slot back, reporting a unary call's latency as a sample: dropped when it ended in
     * {@code DEADLINE_EXCEEDED} or {@code CANCELLED} (it took too long for its caller), successful
     * otherwise. A streaming call's duration says nothing about load, so it is ignored.
     */
    void release(Status.Code code) {
      if (!unary) {
        listener.onIgnore();
      } else if (code == Status.Code.DEADLINE_EXCEEDED || code == Status.Code.CANCELLED) {
        listener.onDropped();
      } else {
        listener.onSuccess();
      }
    }
  }

  /**
   * Releases its slot exactly once when the call ends (TrackedServerCall: close, cancel, deadline,
   * grpc's own close, or a failed start), before the status goes out, so a caller that saw the call
   * end finds its slot free.
   */
  private static final class LimitedCall<ReqT, RespT> extends TrackedServerCall<ReqT, RespT> {
    private final Slot slot;

    LimitedCall(ServerCall<ReqT, RespT> delegate, Slot slot) {
      super(delegate);
      this.slot = slot;
    }

    @Override
    protected void onEnded(Status.Code code) {
      slot.release(code);
    }
  }

  /**
   * A limit that never reports less than {@code min}: VegasLimit has no minimum of its own (it can
   * fall to 1).
   */
  private static final class AtLeast implements Limit {
    private final Limit delegate;
    private final int min;

    AtLeast(Limit delegate, int min) {
      this.delegate = delegate;
      this.min = min;
    }

    @Override
    public int getLimit() {
      return Math.max(min, delegate.getLimit());
    }

    @Override
    public void notifyOnChange(Consumer<Integer> consumer) {
      delegate.notifyOnChange(limit -> consumer.accept(Math.max(min, limit)));
    }

    @Override
    public void onSample(long startTime, long rtt, int inflight, boolean didDrop) {
      delegate.onSample(startTime, rtt, inflight, didDrop);
    }
  }
}
