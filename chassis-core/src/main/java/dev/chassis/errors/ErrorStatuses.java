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
 *   <li>any other {@link StatusRuntimeException} or {@link StatusException}: its code, description
 *       and trailers, without the cause;
 *   <li>anything else: {@code INTERNAL} with the generic message {@value #INTERNAL_MESSAGE}.
 * </ul>
 *
 * <p>Thread-safe, stateless. Used by the server's error-mapping interceptor and by handlers that
 * report per-item errors inside a stream (as {@code google.rpc.Status} values).
 */
public final class ErrorStatuses {
  /** The only message a caller sees for an unexpected exception. */
  public static final String INTERNAL_MESSAGE = "internal error";

  private ErrorStatuses() {}

  /** Whether {@code t} is an error the application meant to return (not an unexpected failure). */
  public static boolean isExpected(Throwable t) {
    return t instanceof StatusRuntimeException || t instanceof StatusException;
  }

  /** The gRPC status (without cause) and trailers a caller should see for {@code t}. */
  public static StatusRuntimeException toStatusRuntimeException(Throwable t) {
    if (t instanceof ServiceException service) {
      return StatusProto.toStatusRuntimeException(service.toRpcStatus());
    }
    Status status = statusOf(t);
    Metadata trailers = trailersOf(t);
    if (status == null) {
      return Status.INTERNAL.withDescription(INTERNAL_MESSAGE).asRuntimeException();
    }
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
    com.google.rpc.Status fromTrailers = isExpected(t) ? StatusProto.fromThrowable(t) : null;
    if (fromTrailers != null) {
      return fromTrailers;
    }
    Status status = statusOf(t);
    if (status == null) {
      return com.google.rpc.Status.newBuilder()
          .setCode(Status.Code.INTERNAL.value())
          .setMessage(INTERNAL_MESSAGE)
          .build();
    }
    String description = status.getDescription();
    return com.google.rpc.Status.newBuilder()
        .setCode(status.getCode().value())
        .setMessage(description == null ? "" : description)
        .build();
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
