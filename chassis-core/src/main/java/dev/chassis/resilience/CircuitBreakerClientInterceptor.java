package dev.chassis.resilience;

import dev.chassis.internal.grpc.FailedClientCall;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Context;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
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

  /** Where rejections are delivered when a call has no executor of its own. */
  private static final Executor REJECTIONS =
      Executors.newCachedThreadPool(
          runnable -> {
            Thread thread = new Thread(runnable, "chassis-breaker-rejections");
            thread.setDaemon(true);
            return thread;
          });

  private final CircuitBreakerSettings settings;
  private final CircuitBreakerRegistry registry;
  private final String target;
  private final @Nullable CircuitBreaker targetBreaker;
  private final ConcurrentMap<String, CircuitBreaker> methodBreakers = new ConcurrentHashMap<>();

  CircuitBreakerClientInterceptor(
      CircuitBreakerSettings settings, CircuitBreakerRegistry registry, String target) {
    this.settings = settings;
    this.registry = registry;
    this.target = target;
    this.targetBreaker = settings.perMethod() ? null : breaker(target);
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
    CircuitBreaker breaker = targetBreaker;
    if (breaker == null) {
      // Atomic, so each breaker gets exactly one transition logger.
      breaker =
          methodBreakers.computeIfAbsent(
              method.getFullMethodName(), name -> breaker(target + "/" + name));
    }
    if (!breaker.tryAcquirePermission()) {
      Executor executor = callOptions.getExecutor();
      return new FailedClientCall<>(
          Status.UNAVAILABLE.withDescription(
              "circuit breaker '"
                  + breaker.getName()
                  + "' is "
                  + breaker.getState()
                  + ": not calling "
                  + target
                  + " until it recovers"),
          executor != null ? executor : REJECTIONS,
          Context.current());
    }
    try {
      return new GuardedCall<>(next.newCall(method, callOptions), breaker, settings);
    } catch (RuntimeException | Error e) {
      breaker.releasePermission();
      throw e;
    }
  }

  /** Reports the final status of a permitted call to its breaker, exactly once. */
  private static final class GuardedCall<ReqT, RespT>
      extends SimpleForwardingClientCall<ReqT, RespT> {
    private final CircuitBreaker breaker;
    private final CircuitBreakerSettings settings;
    private final AtomicBoolean reported = new AtomicBoolean();
    private volatile boolean started;

    GuardedCall(
        ClientCall<ReqT, RespT> delegate, CircuitBreaker breaker, CircuitBreakerSettings settings) {
      super(delegate);
      this.breaker = breaker;
      this.settings = settings;
    }

    @Override
    public void cancel(@Nullable String message, @Nullable Throwable cause) {
      // A call cancelled before it started gets no onClose: give the permit back here, or a
      // half-open breaker would wait for that probe forever.
      if (!started && reported.compareAndSet(false, true)) {
        breaker.releasePermission();
      }
      super.cancel(message, cause);
    }

    @Override
    public void start(Listener<RespT> listener, Metadata headers) {
      started = true;
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
}
