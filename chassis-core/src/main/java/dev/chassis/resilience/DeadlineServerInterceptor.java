package dev.chassis.resilience;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Deadline;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
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
    Deadline deadline = Context.current().getDeadline();
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
        Context.current().withDeadlineAfter(maxNanos, TimeUnit.NANOSECONDS, scheduler);
    ServerCall.Listener<ReqT> listener;
    try {
      listener = Contexts.interceptCall(bounded, call, headers, next);
    } catch (RuntimeException | Error e) {
      bounded.cancel(null);
      throw e;
    }
    // Release the context's timer when the call ends, not when the bound fires.
    return new SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onComplete() {
        try {
          super.onComplete();
        } finally {
          bounded.cancel(null);
        }
      }

      @Override
      public void onCancel() {
        try {
          super.onCancel();
        } finally {
          bounded.cancel(null);
        }
      }
    };
  }
}
