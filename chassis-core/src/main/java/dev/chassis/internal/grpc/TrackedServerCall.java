package dev.chassis.internal.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.Status;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A server call that reports how it ended exactly once, with the status the client saw, whichever
 * way it ends:
 *
 * <ul>
 *   <li>the handler (or an inner interceptor) closes it: that status; but if the call was already
 *       cancelled (a handler finishing after the client went away or the deadline passed, whose
 *       cancellation callback waits behind it), the cancellation's code, {@code CANCELLED} or
 *       {@code DEADLINE_EXCEEDED};
 *   <li>the client cancels or the deadline passes first: that code;
 *   <li>grpc closes it itself (a handler threw an {@link Error} past the error mapping, or an
 *       interceptor outside this one closed it): {@code UNKNOWN};
 *   <li>{@code startCall} throws: {@code UNKNOWN}.
 * </ul>
 *
 * <p>Used by the metrics, access-log and concurrency-limit interceptors: {@code return new
 * MyCall<>(call).start(headers, next);}.
 */
public abstract class TrackedServerCall<ReqT, RespT>
    extends SimpleForwardingServerCall<ReqT, RespT> {
  private static final Logger logger = LoggerFactory.getLogger(TrackedServerCall.class);

  @SuppressWarnings("rawtypes") // the updater needs the raw class of a generic type
  private static final AtomicIntegerFieldUpdater<TrackedServerCall> ENDED =
      AtomicIntegerFieldUpdater.newUpdater(TrackedServerCall.class, "ended");

  private final Context context;
  private volatile int ended;

  protected TrackedServerCall(ServerCall<ReqT, RespT> delegate) {
    super(delegate);
    // The call's context, to tell a deadline from a cancellation. Another tracked call of the same
    // call (an outer interceptor's) already holds one: with OpenTelemetry's gRPC context bridge on
    // the classpath each Context.current() inside a span allocates a new grpc Context.
    this.context =
        delegate instanceof TrackedServerCall<?, ?> outer ? outer.context : Context.current();
  }

  /** The call ended with {@code code}; called once. Must not throw. */
  protected abstract void onEnded(Status.Code code);

  /** A response message is about to be sent. grpc serializes a call's sends. */
  protected void onMessageSent() {}

  /** A request message arrived. grpc serializes a call's callbacks. */
  protected void onMessageReceived() {}

  /**
   * Starts the call through {@code next} and returns the listener to hand back to grpc; reports
   * {@code UNKNOWN} and rethrows when {@code next} throws.
   */
  public final ServerCall.Listener<ReqT> start(
      Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    ServerCall.Listener<ReqT> listener;
    try {
      listener = next.startCall(this, headers);
    } catch (RuntimeException | Error e) {
      end(Status.Code.UNKNOWN);
      throw e;
    }
    return new SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onMessage(ReqT message) {
        onMessageReceived();
        super.onMessage(message);
      }

      @Override
      public void onCancel() {
        end(cancelledCode());
        super.onCancel();
      }

      @Override
      public void onComplete() {
        end(Status.Code.UNKNOWN); // a no-op after a close this call saw
        super.onComplete();
      }
    };
  }

  @Override
  public void sendMessage(RespT message) {
    onMessageSent();
    super.sendMessage(message);
  }

  @Override
  public void close(Status status, Metadata trailers) {
    try {
      end(isCancelled() ? cancelledCode() : status.getCode());
    } finally {
      super.close(status, trailers);
    }
  }

  private Status.Code cancelledCode() {
    Status status = Contexts.statusFromCancelled(context);
    return status == null ? Status.Code.CANCELLED : status.getCode();
  }

  private void end(Status.Code code) {
    if (ENDED.compareAndSet(this, 0, 1)) {
      try {
        onEnded(code);
      } catch (RuntimeException e) {
        logger.warn("{} end hook failed", getMethodDescriptor().getFullMethodName(), e);
      }
    }
  }
}
