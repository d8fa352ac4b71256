package dev.chassis.observability.logging;

import static net.logstash.logback.argument.StructuredArguments.keyValue;
import static net.logstash.logback.argument.StructuredArguments.value;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.slf4j.event.Level;

/**
 * One line per completed call on logger {@code chassis.access}; see {@link LoggingInterceptors}.
 */
final class AccessLogServerInterceptor implements ServerInterceptor {
  static final Logger logger = LoggerFactory.getLogger(LoggingInterceptors.ACCESS_LOGGER);

  private final Level level;
  private final double okSampleRate;

  AccessLogServerInterceptor(Level level, double okSampleRate) {
    this.level = level;
    this.okSampleRate = okSampleRate;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    if (!logger.isEnabledForLevel(level)) {
      return next.startCall(call, headers);
    }
    LoggedCall<ReqT, RespT> logged = new LoggedCall<>(call, this);
    ServerCall.Listener<ReqT> listener;
    try {
      listener = next.startCall(logged, headers);
    } catch (RuntimeException | Error e) {
      logged.complete(Status.Code.UNKNOWN);
      throw e;
    }
    return new LoggedListener<>(listener, logged);
  }

  private static final class LoggedCall<ReqT, RespT>
      extends SimpleForwardingServerCall<ReqT, RespT> {
    @SuppressWarnings("unchecked") // the updater needs the raw class of a generic type
    private static final AtomicIntegerFieldUpdater<LoggedCall<?, ?>> DONE =
        AtomicIntegerFieldUpdater.newUpdater(
            (Class<LoggedCall<?, ?>>) (Class<?>) LoggedCall.class, "done");

    private final AccessLogServerInterceptor log;
    private final long startNanos = System.nanoTime();
    // The call's trace context (the tracing interceptor made it current before us), so the line
    // carries trace_id and span_id whichever thread closes the call.
    private final Context context = Context.current();
    private final io.grpc.Context grpcContext = io.grpc.Context.current();
    private volatile int done;
    private volatile long sent;
    private volatile long received;

    LoggedCall(ServerCall<ReqT, RespT> delegate, AccessLogServerInterceptor log) {
      super(delegate);
      this.log = log;
    }

    @Override
    public void sendMessage(RespT message) {
      sent++; // grpc serializes a call's sends
      super.sendMessage(message);
    }

    @Override
    public void close(Status status, Metadata trailers) {
      try {
        // A handler may finish after the call was cancelled: the client saw the cancellation.
        complete(isCancelled() ? cancelledCode() : status.getCode());
      } finally {
        super.close(status, trailers);
      }
    }

    Status.Code cancelledCode() {
      Status status = io.grpc.Contexts.statusFromCancelled(grpcContext);
      return status == null ? Status.Code.CANCELLED : status.getCode();
    }

    void complete(Status.Code code) {
      if (!DONE.compareAndSet(this, 0, 1)) {
        return;
      }
      if (code == Status.Code.OK
          && log.okSampleRate < 1.0
          && ThreadLocalRandom.current().nextDouble() >= log.okSampleRate) {
        return;
      }
      String method = getMethodDescriptor().getFullMethodName();
      long durationMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
      String previousMethod = MDC.get(LoggingInterceptors.MDC_METHOD);
      MDC.put(LoggingInterceptors.MDC_METHOD, method);
      Scope scope = context.makeCurrent();
      try {
        // grpc.method is in the MDC (one JSON key); the message repeats it as plain text.
        logger
            .atLevel(log.level)
            .log(
                "{} {} {} ms",
                method,
                value("grpc.code", code.name()),
                value("duration_ms", durationMs),
                keyValue("peer", peer(getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR))),
                keyValue("messages_received", received),
                keyValue("messages_sent", sent));
      } finally {
        scope.close();
        if (previousMethod == null) {
          MDC.remove(LoggingInterceptors.MDC_METHOD);
        } else {
          MDC.put(LoggingInterceptors.MDC_METHOD, previousMethod);
        }
      }
    }

    private static String peer(SocketAddress address) {
      if (address instanceof InetSocketAddress inet) {
        // getHostString: never a reverse DNS lookup on the call path.
        return inet.getHostString() + ":" + inet.getPort();
      }
      return address == null ? "unknown" : address.toString();
    }
  }

  private static final class LoggedListener<ReqT> extends SimpleForwardingServerCallListener<ReqT> {
    private final LoggedCall<ReqT, ?> call;

    LoggedListener(ServerCall.Listener<ReqT> delegate, LoggedCall<ReqT, ?> call) {
      super(delegate);
      this.call = call;
    }

    @Override
    public void onMessage(ReqT message) {
      call.received++; // grpc serializes a call's callbacks
      super.onMessage(message);
    }

    @Override
    public void onCancel() {
      call.complete(call.cancelledCode());
      super.onCancel();
    }

    @Override
    public void onComplete() {
      // Normally logged at close; grpc closes calls itself when a handler throws an Error.
      call.complete(Status.Code.UNKNOWN);
      super.onComplete();
    }
  }
}
