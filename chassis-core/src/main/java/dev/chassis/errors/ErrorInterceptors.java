package dev.chassis.errors;

import io.grpc.ServerInterceptor;

/** Factories for the error-mapping interceptor. */
public final class ErrorInterceptors {
  private ErrorInterceptors() {}

  /**
   * A server interceptor that turns exceptions thrown by handlers (or passed to {@code onError})
   * into statuses via {@link ErrorStatuses}, logs unexpected ones with their stack trace, and makes
   * sure nothing internal reaches the caller. Chassis installs it on every server.
   */
  public static ServerInterceptor exceptionMapping() {
    return ExceptionMappingServerInterceptor.INSTANCE;
  }
}
