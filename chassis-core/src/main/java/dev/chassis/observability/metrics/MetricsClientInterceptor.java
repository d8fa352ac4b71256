package dev.chassis.observability.metrics;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/** Client call metrics under gRFC A66's names; see {@link GrpcMetrics#clientInterceptor}. */
final class MetricsClientInterceptor implements ClientInterceptor {
  private final MeterRegistry registry;
  private final Tags targetTags;
  private final ConcurrentMap<String, MethodMeters> byMethod = new ConcurrentHashMap<>();

  MetricsClientInterceptor(MeterRegistry registry, String target) {
    this.registry = registry;
    this.targetTags = Tags.of("grpc.target", target);
  }

  @Override
  public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
      MethodDescriptor<ReqT, RespT> method, CallOptions callOptions, Channel next) {
    MethodMeters found = byMethod.get(method.getFullMethodName());
    if (found == null) {
      found =
          byMethod.computeIfAbsent(
              method.getFullMethodName(),
              n -> MethodMeters.of(registry, "grpc.client.call", method, targetTags));
    }
    MethodMeters meters = found;
    return new SimpleForwardingClientCall<>(next.newCall(method, callOptions)) {
      @Override
      public void start(Listener<RespT> listener, Metadata headers) {
        meters.started.increment();
        meters.active.incrementAndGet();
        long startNanos = System.nanoTime();
        try {
          startDelegate(listener, headers, startNanos);
        } catch (RuntimeException | Error e) {
          // No onClose will come for a call that did not start.
          meters.completed(Status.Code.UNKNOWN, System.nanoTime() - startNanos);
          throw e;
        }
      }

      private void startDelegate(Listener<RespT> listener, Metadata headers, long startNanos) {
        super.start(
            new SimpleForwardingClientCallListener<>(listener) {
              @Override
              public void onMessage(RespT message) {
                meters.receivedMessages.increment();
                super.onMessage(message);
              }

              @Override
              public void onClose(Status status, Metadata trailers) {
                // grpc calls onClose exactly once per started call, cancellations included.
                meters.completed(status.getCode(), System.nanoTime() - startNanos);
                super.onClose(status, trailers);
              }
            },
            headers);
      }

      @Override
      public void sendMessage(ReqT message) {
        meters.sentMessages.increment();
        super.sendMessage(message);
      }
    };
  }
}
