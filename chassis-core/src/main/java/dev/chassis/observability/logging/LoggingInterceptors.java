package dev.chassis.observability.logging;

import io.grpc.ServerInterceptor;

/** Factories for logging interceptors. */
public final class LoggingInterceptors {
  /** MDC key holding the full method name, such as {@code user.v1.UserService/GetUser}. */
  public static final String MDC_METHOD = "grpc.method";

  private LoggingInterceptors() {}

  /**
   * Puts {@value #MDC_METHOD} into the SLF4J MDC while grpc runs each callback of a call (message,
   * half-close, ready, cancel, complete), so handler logs carry it as a JSON field.
   */
  public static ServerInterceptor mdc() {
    return MdcServerInterceptor.INSTANCE;
  }
}
