package dev.chassis.resilience;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A resilience4j circuit breaker that classifies by gRPC status. Below retries (which grpc runs
 * underneath the interceptors), it sees each call's final outcome; a stream counts by its final
 * status. While open, calls fail with {@code UNAVAILABLE} without touching the network.
 */
final class CircuitBreakerClientInterceptor implements ClientInterceptor {
  private static final Logger logger =
      LoggerFactory.getLogger(CircuitBreakerClientInterceptor.class);

  private final CircuitBreakerSettings settings;
  private final CircuitBreakerRegistry registry;
  private final String target;
  private final CircuitBreaker targetBreaker;

  CircuitBreakerClientInterceptor(
      CircuitBreakerSettings settings, CircuitBreakerRegistry registry, String target) {
    this.settings = settings;
    this.registry = registry;
    this.target = target;
    this.targetBreaker = breaker(target);
  }

  private CircuitBreaker breaker(String name) {
    CircuitBreaker breaker = registry.circuitBreaker(name, settings.toResilience4j());
    breaker
        .getEventPublisher()
        .onStateTransition(
            event ->
                logger.warn(
                    "circuit breaker '{}' {}",
                    event.getCircuitBreakerName(),
                    event.getStateTransition()));
    return breaker;
  }

  @Override
  public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
      MethodDescriptor<ReqT, RespT> method, CallOptions callOptions, Channel next) {
    CircuitBreaker breaker =
        settings.perMethod()
            ? registry
                .find(target + "/" + method.getFullMethodName())
                .orElseGet(() -> breaker(target + "/" + method.getFullMethodName()))
            : targetBreaker;
    if (!breaker.tryAcquirePermission()) {
      return new RejectedCall<>(
          Status.UNAVAILABLE.withDescription(
              "circuit breaker '"
                  + breaker.getName()
                  + "' is "
                  + breaker.getState()
                  + ": not calling "
                  + target
                  + " until it recovers"));
    }
    return new GuardedCall<>(next.newCall(method, callOptions), breaker, settings);
  }

  /** Reports the final status of a permitted call to its breaker, exactly once. */
  private static final class GuardedCall<ReqT, RespT>
      extends SimpleForwardingClientCall<ReqT, RespT> {
    private final CircuitBreaker breaker;
    private final CircuitBreakerSettings settings;
    private final AtomicBoolean reported = new AtomicBoolean();

    GuardedCall(
        ClientCall<ReqT, RespT> delegate, CircuitBreaker breaker, CircuitBreakerSettings settings) {
      super(delegate);
      this.breaker = breaker;
      this.settings = settings;
    }

    @Override
    public void start(Listener<RespT> listener, Metadata headers) {
      long startNanos = System.nanoTime();
      try {
        super.start(
            new SimpleForwardingClientCallListener<>(listener) {
              @Override
              public void onClose(Status status, Metadata trailers) {
                report(status, System.nanoTime() - startNanos);
                super.onClose(status, trailers);
              }
            },
            headers);
      } catch (RuntimeException e) {
        if (reported.compareAndSet(false, true)) {
          breaker.releasePermission();
        }
        throw e;
      }
    }

    private void report(Status status, long nanos) {
      if (!reported.compareAndSet(false, true)) {
        return;
      }
      Status.Code code = status.getCode();
      if (settings.failureCodes().contains(code)) {
        breaker.onError(nanos, TimeUnit.NANOSECONDS, new StatusRuntimeException(status));
      } else if (code == Status.Code.CANCELLED) {
        // The caller gave up: says nothing about the dependency's health.
        breaker.releasePermission();
      } else {
        // OK and caller errors (INVALID_ARGUMENT, NOT_FOUND, ...): the dependency answered.
        breaker.onSuccess(nanos, TimeUnit.NANOSECONDS);
      }
    }
  }

  /** A call rejected by an open breaker: it closes on start, without a network call. */
  private static final class RejectedCall<ReqT, RespT> extends ClientCall<ReqT, RespT> {
    private final Status status;

    RejectedCall(Status status) {
      this.status = status;
    }

    @Override
    public void start(Listener<RespT> listener, Metadata headers) {
      listener.onClose(status, new Metadata());
    }

    @Override
    public void request(int numMessages) {}

    @Override
    public void cancel(@Nullable String message, @Nullable Throwable cause) {}

    @Override
    public void halfClose() {}

    @Override
    public void sendMessage(ReqT message) {}
  }
}
