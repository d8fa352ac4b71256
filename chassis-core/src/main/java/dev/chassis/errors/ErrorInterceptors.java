package dev.chassis.errors;

import io.grpc.ClientInterceptor;
import io.grpc.ServerInterceptor;

/** Factories for the error-model interceptors. */
public final class ErrorInterceptors {
  private ErrorInterceptors() {}

  /**
   * A server interceptor that turns exceptions thrown by handlers (or passed to {@code onError})
   * into statuses via {@link ErrorStatuses}, logs unexpected ones with their stack trace and the
   * causes of expected ones, and makes sure nothing internal reaches the caller. Chassis installs
   * it on every server.
   */
  public static ServerInterceptor exceptionMapping() {
    return ExceptionMappingServerInterceptor.INSTANCE;
  }

  /**
   * A client interceptor that marks every failure the channel receives as a downstream failure (a
   * local trailer, never sent), so the server's error mapping does not forward another service's
   * status as the caller's own. {@code Chassis.channel} installs it.
   *
   * @param target names the other service in logs, such as {@code "user-service"}
   */
  public static ClientInterceptor markDownstreamFailures(String target) {
    return new DownstreamMarkingClientInterceptor(target);
  }
}
