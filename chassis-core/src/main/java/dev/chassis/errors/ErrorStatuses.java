package dev.chassis.errors;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import org.jspecify.annotations.Nullable;

/**
 * Maps exceptions to what a caller may see, following the error table in DESIGN.md:
 *
 * <ul>
 *   <li>a {@link ServiceException}: its code, message and details;
 *   <li>a failure a Chassis channel received from another service (a <em>downstream</em> failure,
 *       see {@link ErrorInterceptors#markDownstreamFailures()}): {@code UNAVAILABLE}, {@code
 *       DEADLINE_EXCEEDED} or {@code CANCELLED} with a generic message when it was one of those,
 *       {@code INTERNAL} otherwise; the other service's message and details are not forwarded, and
 *       its codes are not passed off as the caller's fault;
 *   <li>any other {@link StatusRuntimeException} or {@link StatusException} (one the application
 *       built, such as {@code Status.PERMISSION_DENIED.withDescription(..).asRuntimeException()}):
 *       its code, description and trailers, without the cause;
 *   <li>anything else: {@code INTERNAL} with the generic message {@value #INTERNAL_MESSAGE}.
 * </ul>
 *
 * <p>Thread-safe, stateless. Used by the server's error-mapping interceptor and by handlers that
 * report per-item errors inside a stream (as {@code google.rpc.Status} values).
 */
public final class ErrorStatuses {
  /** The only message a caller sees for an unexpected exception. */
  public static final String INTERNAL_MESSAGE = "internal error";

  /** Local trailer key a Chassis channel adds to the failures it receives; never sent. */
  static final Metadata.Key<String> DOWNSTREAM =
      Metadata.Key.of("chassis-downstream-failure", Metadata.ASCII_STRING_MARSHALLER);

  private ErrorStatuses() {}

  /**
   * Whether {@code t} is an error the application meant to return: a status exception it built, not
   * an unexpected exception and not a failure received from another service.
   */
  public static boolean isExpected(Throwable t) {
    return (t instanceof StatusRuntimeException || t instanceof StatusException)
        && !isDownstream(t);
  }

  /** Whether {@code t} is a failure a Chassis channel received from another service. */
  public static boolean isDownstream(Throwable t) {
    Metadata trailers = trailersOf(t);
    return trailers != null && trailers.containsKey(DOWNSTREAM);
  }

  /** The gRPC status (without cause) and trailers a caller should see for {@code t}. */
  public static StatusRuntimeException toStatusRuntimeException(Throwable t) {
    if (t instanceof ServiceException service) {
      return StatusProto.toStatusRuntimeException(service.toRpcStatus());
    }
    Status status = statusOf(t);
    if (status == null) {
      return Status.INTERNAL.withDescription(INTERNAL_MESSAGE).asRuntimeException();
    }
    if (isDownstream(t)) {
      return downstream(status.getCode()).asRuntimeException();
    }
    Metadata trailers = trailersOf(t);
    return status.withCause(null).asRuntimeException(trailers == null ? new Metadata() : trailers);
  }

  /**
   * The {@code google.rpc.Status} a caller should see for {@code t}, with rich details when the
   * exception carried them. Useful for per-item results in a stream.
   */
  public static com.google.rpc.Status toRpcStatus(Throwable t) {
    if (t instanceof ServiceException service) {
      return service.toRpcStatus();
    }
    StatusRuntimeException mapped = toStatusRuntimeException(t);
    com.google.rpc.Status fromTrailers = StatusProto.fromThrowable(mapped);
    if (fromTrailers != null) {
      return fromTrailers;
    }
    String description = mapped.getStatus().getDescription();
    return com.google.rpc.Status.newBuilder()
        .setCode(mapped.getStatus().getCode().value())
        .setMessage(description == null ? "" : description)
        .build();
  }

  /** What a caller sees when another service failed us with {@code code}. */
  private static Status downstream(Status.Code code) {
    return switch (code) {
      case UNAVAILABLE -> Status.UNAVAILABLE.withDescription("a dependency is unavailable");
      case DEADLINE_EXCEEDED -> Status.DEADLINE_EXCEEDED.withDescription("deadline exceeded");
      case CANCELLED -> Status.CANCELLED.withDescription("cancelled");
      default -> Status.INTERNAL.withDescription(INTERNAL_MESSAGE);
    };
  }

  private static @Nullable Status statusOf(Throwable t) {
    if (t instanceof StatusRuntimeException e) {
      return e.getStatus();
    }
    if (t instanceof StatusException e) {
      return e.getStatus();
    }
    return null;
  }

  private static @Nullable Metadata trailersOf(Throwable t) {
    if (t instanceof StatusRuntimeException e) {
      return e.getTrailers();
    }
    if (t instanceof StatusException e) {
      return e.getTrailers();
    }
    return null;
  }
}
