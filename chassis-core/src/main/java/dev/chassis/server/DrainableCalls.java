package dev.chassis.server;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tracks the open calls of a service that never ends its streams by itself (health {@code Watch})
 * so the drain can end them: otherwise a single watcher would hold every drain for the full grace
 * period. After {@link #closeAll} a tracked call ignores what its handler still sends.
 */
final class DrainableCalls implements ServerInterceptor {
  private final Set<TrackedCall<?, ?>> open = ConcurrentHashMap.newKeySet();

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    TrackedCall<ReqT, RespT> tracked = new TrackedCall<>(call);
    open.add(tracked);
    return new SimpleForwardingServerCallListener<>(next.startCall(tracked, headers)) {
      @Override
      public void onComplete() {
        open.remove(tracked);
        super.onComplete();
      }

      @Override
      public void onCancel() {
        open.remove(tracked);
        super.onCancel();
      }
    };
  }

  /** Ends every open call with {@code status}. */
  void closeAll(Status status) {
    for (TrackedCall<?, ?> call : open) {
      call.closeIfOpen(status);
    }
    open.clear();
  }

  private static final class TrackedCall<ReqT, RespT>
      extends SimpleForwardingServerCall<ReqT, RespT> {
    private boolean closed;

    TrackedCall(ServerCall<ReqT, RespT> delegate) {
      super(delegate);
    }

    @Override
    public synchronized void sendHeaders(Metadata headers) {
      if (!closed) {
        super.sendHeaders(headers);
      }
    }

    @Override
    public synchronized void sendMessage(RespT message) {
      if (!closed) {
        super.sendMessage(message);
      }
    }

    @Override
    public synchronized void close(Status status, Metadata trailers) {
      if (!closed) {
        closed = true;
        super.close(status, trailers);
      }
    }

    synchronized void closeIfOpen(Status status) {
      close(status, new Metadata());
    }
  }
}
