package dev.chassis.observability.metrics;

import dev.chassis.internal.grpc.TrackedServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/** Server call metrics under gRFC A66's names; see {@link GrpcMetrics#serverInterceptor}. */
final class MetricsServerInterceptor implements ServerInterceptor {
  private final MeterRegistry registry;
  private final ConcurrentMap<String, MethodMeters> byMethod = new ConcurrentHashMap<>();

  MetricsServerInterceptor(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    String name = call.getMethodDescriptor().getFullMethodName();
    MethodMeters meters = byMethod.get(name);
    if (meters == null) {
      meters =
          byMethod.computeIfAbsent(
              name,
              n ->
                  MethodMeters.of(
                      registry, "grpc.server.call", call.getMethodDescriptor(), Tags.empty()));
    }
    meters.started.increment();
    meters.active.incrementAndGet();
    return new MeteredCall<>(call, meters).start(headers, next);
  }

  private static final class MeteredCall<ReqT, RespT> extends TrackedServerCall<ReqT, RespT> {
    private final MethodMeters meters;
    private final long startNanos = System.nanoTime();

    MeteredCall(ServerCall<ReqT, RespT> delegate, MethodMeters meters) {
      super(delegate);
      this.meters = meters;
    }

    @Override
    protected void onMessageSent() {
      meters.sentMessages.increment();
    }

    @Override
    protected void onMessageReceived() {
      meters.receivedMessages.increment();
    }

    @Override
    protected void onEnded(Status.Code code) {
      meters.completed(code, System.nanoTime() - startNanos);
    }
  }
}
