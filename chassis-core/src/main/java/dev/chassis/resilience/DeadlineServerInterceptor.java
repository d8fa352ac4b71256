package dev.chassis.resilience;

import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Rejects calls whose deadline passed before they reached the handler (they waited in a queue), and
 * caps the deadline handlers see (and that their outgoing calls inherit) at a maximum, so a caller
 * with no or an absurd deadline cannot hold resources downstream indefinitely.
 */
final class DeadlineServerInterceptor implements ServerInterceptor {
  private final long maxNanos;
  private final ScheduledExecutorService scheduler;

  DeadlineServerInterceptor(Duration max, ScheduledExecutorService scheduler) {
    this.maxNanos = max.toNanos();
    this.scheduler = scheduler;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    // Read once: with OpenTelemetry's gRPC context bridge on the classpath, every
    // Context.current() inside a span allocates a fresh grpc Context.
    Context current = Context.current();
    Deadline deadline = current.getDeadline();
    if (deadline != null && deadline.isExpired()) {
      call.close(
          Status.DEADLINE_EXCEEDED.withDescription("deadline passed before the call was handled"),
          new Metadata());
      return new ServerCall.Listener<>() {};
    }
    // Only unary calls are bounded: streams legitimately live for hours (watches, feeds), and
    // cancelling their Context would cut them off.
    if (call.getMethodDescriptor().getType() != MethodDescriptor.MethodType.UNARY
        || (deadline != null && deadline.timeRemaining(TimeUnit.NANOSECONDS) <= maxNanos)) {
      return next.startCall(call, headers);
    }
    Context.CancellableContext bounded =
        current.withDeadlineAfter(maxNanos, TimeUnit.NANOSECONDS, scheduler);
    Context previous = bounded.attach();
    ServerCall.Listener<ReqT> listener;
    try {
      listener = next.startCall(call, headers);
    } catch (RuntimeException | Error e) {
      bounded.cancel(null);
      throw e;
    } finally {
      bounded.detach(previous);
    }
    return new BoundedListener<>(listener, bounded);
  }

  /**
   * Runs every callback in the bounded context (what {@code Contexts.interceptCall} does) and
   * releases the context's timer when the call ends, not when the bound fires; one object instead
   * of two wrappers.
   */
  private static final class BoundedListener<ReqT> extends ServerCall.Listener<ReqT> {
    private final ServerCall.Listener<ReqT> delegate;
    private final Context.CancellableContext bounded;

    BoundedListener(ServerCall.Listener<ReqT> delegate, Context.CancellableContext bounded) {
      this.delegate = delegate;
      this.bounded = bounded;
    }

    @Override
    public void onMessage(ReqT message) {
      Context previous = bounded.attach();
      try {
        delegate.onMessage(message);
      } finally {
        bounded.detach(previous);
      }
    }

    @Override
    public void onHalfClose() {
      Context previous = bounded.attach();
      try {
        delegate.onHalfClose();
      } finally {
        bounded.detach(previous);
      }
    }

    @Override
    public void onReady() {
      Context previous = bounded.attach();
      try {
        delegate.onReady();
      } finally {
        bounded.detach(previous);
      }
    }

    @Override
    public void onComplete() {
      Context previous = bounded.attach();
      try {
        delegate.onComplete();
      } finally {
        bounded.detach(previous);
        bounded.cancel(null);
      }
    }

    @Override
    public void onCancel() {
      Context previous = bounded.attach();
      try {
        delegate.onCancel();
      } finally {
        bounded.detach(previous);
        bounded.cancel(null);
      }
    }
  }
}
