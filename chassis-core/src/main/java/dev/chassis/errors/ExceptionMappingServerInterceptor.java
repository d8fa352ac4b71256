package dev.chassis.errors;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Catches what handlers throw in any listener callback, and what they pass to {@code onError}
 * (which grpc-java turns into {@code UNKNOWN} with the exception as cause), and closes the call
 * with the mapped status instead.
 */
final class ExceptionMappingServerInterceptor implements ServerInterceptor {
  static final ExceptionMappingServerInterceptor INSTANCE = new ExceptionMappingServerInterceptor();

  private static final Logger logger =
      LoggerFactory.getLogger(ExceptionMappingServerInterceptor.class);

  private ExceptionMappingServerInterceptor() {}

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    MappingServerCall<ReqT, RespT> mapping = new MappingServerCall<>(call);
    ServerCall.Listener<ReqT> listener;
    try {
      listener = next.startCall(mapping, headers);
    } catch (RuntimeException e) {
      mapping.fail(e);
      return new ServerCall.Listener<>() {};
    }
    return new MappingListener<>(listener, mapping);
  }

  private static final class MappingServerCall<ReqT, RespT>
      extends SimpleForwardingServerCall<ReqT, RespT> {
    // close() may come from a handler's own thread while a callback throws on grpc's; closing is
    // serialized here so the call is closed exactly once.
    private boolean closed;

    MappingServerCall(ServerCall<ReqT, RespT> delegate) {
      super(delegate);
    }

    @Override
    public synchronized void close(Status status, Metadata trailers) {
      Throwable cause = status.getCause();
      if (!status.isOk() && trailers.containsKey(ErrorStatuses.DOWNSTREAM)) {
        // onError(e) where e is, or wraps, a failure received from another service.
        closeMapped(status.asRuntimeException(trailers));
      } else if (status.getCode() == Status.Code.UNKNOWN && cause != null) {
        // onError(e) with a non-status exception arrives here as UNKNOWN with e as the cause.
        closeMapped(cause);
      } else {
        if (cause != null) {
          logCause(status.getDescription(), cause);
        }
        closeOnce(status.withCause(null), trailers);
      }
    }

    synchronized void fail(Throwable t) {
      if (closed) {
        logger.error(
            "{} threw after the call was closed", getMethodDescriptor().getFullMethodName(), t);
        return;
      }
      closeMapped(t);
    }

    private void closeMapped(Throwable t) {
      log(t);
      StatusRuntimeException mapped = ErrorStatuses.toStatusRuntimeException(t);
      Metadata trailers = mapped.getTrailers();
      closeOnce(mapped.getStatus(), trailers == null ? new Metadata() : trailers);
    }

    private void closeOnce(Status status, Metadata trailers) {
      if (closed) {
        logger.warn(
            "{} closed twice; second status {} dropped",
            getMethodDescriptor().getFullMethodName(),
            status.getCode());
        return;
      }
      closed = true;
      super.close(status, trailers);
    }

    private void log(Throwable t) {
      String method = getMethodDescriptor().getFullMethodName();
      if (ErrorStatuses.isDownstream(t)) {
        logger.warn("{} failed because a downstream call failed", method, t);
      } else if (!ErrorStatuses.isExpected(t)) {
        logger.error("{} failed with an unexpected exception", method, t);
      } else if (t.getCause() != null) {
        logCause(t.getMessage(), t.getCause());
      }
    }

    private void logCause(@Nullable String description, Throwable cause) {
      // An expected status with a cause (a dependency failed): the cause is for us only.
      logger.warn("{} failed: {}", getMethodDescriptor().getFullMethodName(), description, cause);
    }
  }

  private static final class MappingListener<ReqT>
      extends SimpleForwardingServerCallListener<ReqT> {
    private final MappingServerCall<ReqT, ?> call;

    MappingListener(ServerCall.Listener<ReqT> delegate, MappingServerCall<ReqT, ?> call) {
      super(delegate);
      this.call = call;
    }

    @Override
    public void onMessage(ReqT message) {
      try {
        super.onMessage(message);
      } catch (RuntimeException e) {
        call.fail(e);
      }
    }

    @Override
    public void onHalfClose() {
      try {
        super.onHalfClose();
      } catch (RuntimeException e) {
        call.fail(e);
      }
    }

    @Override
    public void onCancel() {
      try {
        super.onCancel();
      } catch (RuntimeException e) {
        logger.error("{} threw in onCancel", call.getMethodDescriptor().getFullMethodName(), e);
      }
    }

    @Override
    public void onComplete() {
      try {
        super.onComplete();
      } catch (RuntimeException e) {
        logger.error("{} threw in onComplete", call.getMethodDescriptor().getFullMethodName(), e);
      }
    }

    @Override
    public void onReady() {
      try {
        super.onReady();
      } catch (RuntimeException e) {
        call.fail(e);
      }
    }
  }
}
