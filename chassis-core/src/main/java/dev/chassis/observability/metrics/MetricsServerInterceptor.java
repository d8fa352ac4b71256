package dev.chassis.observability.metrics;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

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
    MeteredCall<ReqT, RespT> metered = new MeteredCall<>(call, meters, System.nanoTime());
    ServerCall.Listener<ReqT> listener;
    try {
      listener = next.startCall(metered, headers);
    } catch (RuntimeException | Error e) {
      metered.complete(Status.Code.UNKNOWN);
      throw e;
    }
    return new MeteredListener<>(listener, metered);
  }

  private static final class MeteredCall<ReqT, RespT>
      extends SimpleForwardingServerCall<ReqT, RespT> {
    @SuppressWarnings("unchecked") // the updater needs the raw class of a generic type
    private static final AtomicIntegerFieldUpdater<MeteredCall<?, ?>> DONE =
        AtomicIntegerFieldUpdater.newUpdater(
            (Class<MeteredCall<?, ?>>) (Class<?>) MeteredCall.class, "done");

    private final MethodMeters meters;
    private final long startNanos;
    private final Context context = Context.current();
    private volatile int done;

    MeteredCall(ServerCall<ReqT, RespT> delegate, MethodMeters meters, long startNanos) {
      super(delegate);
      this.meters = meters;
      this.startNanos = startNanos;
    }

    @Override
    public void sendMessage(RespT message) {
      meters.sentMessages.increment();
      super.sendMessage(message);
    }

    @Override
    public void close(Status status, Metadata trailers) {
      try {
        // A handler may finish after the call was cancelled (the cancellation waits behind it):
        // the client never sees this status; it saw the cancellation's (CANCELLED, or
        // DEADLINE_EXCEEDED when the deadline ran out).
        complete(
            isCancelled() ? Contexts.statusFromCancelled(context).getCode() : status.getCode());
      } finally {
        super.close(status, trailers);
      }
    }

    Status.Code cancelledCode() {
      Status status = Contexts.statusFromCancelled(context);
      return status == null ? Status.Code.CANCELLED : status.getCode();
    }

    /** Records once: the status the server sent, or CANCELLED when the client went away first. */
    void complete(Status.Code code) {
      if (DONE.compareAndSet(this, 0, 1)) {
        meters.completed(code, System.nanoTime() - startNanos);
      }
    }
  }

  private static final class MeteredListener<ReqT>
      extends SimpleForwardingServerCallListener<ReqT> {
    private final MeteredCall<ReqT, ?> call;

    MeteredListener(ServerCall.Listener<ReqT> delegate, MeteredCall<ReqT, ?> call) {
      super(delegate);
      this.call = call;
    }

    @Override
    public void onMessage(ReqT message) {
      call.meters.receivedMessages.increment();
      super.onMessage(message);
    }

    @Override
    public void onCancel() {
      call.complete(call.cancelledCode());
      super.onCancel();
    }

    @Override
    public void onComplete() {
      // Normally recorded at close; grpc closes calls itself when a handler throws an Error.
      call.complete(Status.Code.UNKNOWN);
      super.onComplete();
    }
  }
}
