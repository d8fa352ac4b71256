package dev.chassis.observability.logging;

import static net.logstash.logback.argument.StructuredArguments.keyValue;
import static net.logstash.logback.argument.StructuredArguments.value;

import dev.chassis.internal.grpc.TrackedServerCall;
import dev.chassis.security.PeerIdentities;
import dev.chassis.security.PeerIdentity;
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
import net.logstash.logback.argument.StructuredArgument;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.slf4j.event.Level;

/**
 * One line per completed call on logger {@code chassis.access}; see {@link LoggingInterceptors}.
 */
final class AccessLogServerInterceptor implements ServerInterceptor {
  static final Logger logger = LoggerFactory.getLogger(LoggingInterceptors.ACCESS_LOGGER);

  private static final String FORMAT = "{} {} {} ms";

  /** The grpc.code argument of each status code; immutable, so shared by every line. */
  private static final StructuredArgument[] CODE_VALUES = codeValues();

  private final Level level;
  private final double okSampleRate;
  private volatile @Nullable Peer lastPeer;

  AccessLogServerInterceptor(Level level, double okSampleRate) {
    this.level = level;
    this.okSampleRate = okSampleRate;
  }

  private static StructuredArgument[] codeValues() {
    Status.Code[] codes = Status.Code.values();
    StructuredArgument[] values = new StructuredArgument[codes.length];
    for (Status.Code code : codes) {
      values[code.ordinal()] = value("grpc.code", code.name());
    }
    return values;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    if (!logger.isEnabledForLevel(level)) {
      return next.startCall(call, headers);
    }
    return new LoggedCall<>(call, this).start(headers, next);
  }

  private static final class LoggedCall<ReqT, RespT> extends TrackedServerCall<ReqT, RespT> {
    private final AccessLogServerInterceptor log;
    private final long startNanos = System.nanoTime();
    // The call's trace context (the tracing interceptor made it current before us), so the line
    // carries trace_id and span_id whichever thread closes the call.
    private final Context context = Context.current();
    private volatile long sent;
    private volatile long received;

    LoggedCall(ServerCall<ReqT, RespT> delegate, AccessLogServerInterceptor log) {
      super(delegate);
      this.log = log;
    }

    @Override
    protected void onMessageSent() {
      sent++; // grpc serializes a call's sends
    }

    @Override
    protected void onMessageReceived() {
      received++; // grpc serializes a call's callbacks
    }

    @Override
    protected void onEnded(Status.Code code) {
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
        // One array per line; the verified client identity (mTLS) only when there is one.
        PeerIdentity identity = PeerIdentities.of(this).orElse(null);
        Object[] arguments = new Object[identity == null ? 6 : 7];
        int next = 0;
        arguments[next++] = method;
        arguments[next++] = CODE_VALUES[code.ordinal()];
        arguments[next++] = value("duration_ms", durationMs);
        arguments[next++] =
            keyValue("peer", log.peer(getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR)));
        if (identity != null) {
          arguments[next++] = keyValue("peer.identity", identity.id());
        }
        arguments[next++] = keyValue("messages_received", received);
        arguments[next] = keyValue("messages_sent", sent);
        log(log.level, arguments);
      } finally {
        scope.close();
        if (previousMethod == null) {
          MDC.remove(LoggingInterceptors.MDC_METHOD);
        } else {
          MDC.put(LoggingInterceptors.MDC_METHOD, previousMethod);
        }
      }
    }
  }

  /** Straight to the level's method: the fluent API would add a builder and an event per line. */
  private static void log(Level level, Object[] arguments) {
    switch (level) {
      case ERROR -> logger.error(FORMAT, arguments);
      case WARN -> logger.warn(FORMAT, arguments);
      case INFO -> logger.info(FORMAT, arguments);
      case DEBUG -> logger.debug(FORMAT, arguments);
      case TRACE -> logger.trace(FORMAT, arguments);
    }
  }

  /**
   * The {@code peer} field. Calls on one connection share its address object, so the text of the
   * last one is kept instead of being built again for every call.
   */
  private String peer(SocketAddress address) {
    Peer last = lastPeer;
    if (last != null && last.address == address) {
      return last.text;
    }
    String text;
    if (address instanceof InetSocketAddress inet) {
      // getHostString: never a reverse DNS lookup on the call path.
      text = inet.getHostString() + ":" + inet.getPort();
    } else {
      text = address == null ? "unknown" : address.toString();
    }
    lastPeer = new Peer(address, text);
    return text;
  }

  private record Peer(@Nullable SocketAddress address, String text) {}
}
