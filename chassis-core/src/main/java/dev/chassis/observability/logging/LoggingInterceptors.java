package dev.chassis.observability.logging;

import io.grpc.ServerInterceptor;
import org.slf4j.event.Level;

/** Factories for logging interceptors. */
public final class LoggingInterceptors {
  /** MDC key holding the full method name, such as {@code user.v1.UserService/GetUser}. */
  public static final String MDC_METHOD = "grpc.method";

  /** Logger of the access log. */
  public static final String ACCESS_LOGGER = "chassis.access";

  private LoggingInterceptors() {}

  /**
   * Puts {@value #MDC_METHOD} into the SLF4J MDC while grpc runs each callback of a call (message,
   * half-close, ready, cancel, complete), so handler logs carry it as a JSON field.
   */
  public static ServerInterceptor mdc() {
    return MdcServerInterceptor.INSTANCE;
  }

  /**
   * One log line per completed call on logger {@value #ACCESS_LOGGER}, at {@code level}, with the
   * fields {@code grpc.method}, {@code grpc.code}, {@code duration_ms}, {@code peer}, {@code
   * messages_received}, {@code messages_sent}, and the call's {@code trace_id} and {@code span_id}.
   * Calls that end {@code OK} are logged with probability {@code okSampleRate} (0..1); failed calls
   * always. Never logs payloads or metadata.
   */
  public static ServerInterceptor accessLog(Level level, double okSampleRate) {
    if (!(okSampleRate >= 0 && okSampleRate <= 1)) {
      throw new IllegalArgumentException("okSampleRate: " + okSampleRate + " (expected: 0..1)");
    }
    return new AccessLogServerInterceptor(level, okSampleRate);
  }
}
