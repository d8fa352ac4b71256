package dev.chassis.errors;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import com.google.rpc.ErrorInfo;
import com.google.rpc.ResourceInfo;
import com.google.rpc.RetryInfo;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * An error a handler means to return: a gRPC status code, a message safe to show the caller, and
 * {@code google.rpc} detail messages ({@code BadRequest}, {@code ErrorInfo}, {@code RetryInfo},
 * ...) carried in the {@code grpc-status-details-bin} trailer.
 *
 * <p>It is a {@link StatusRuntimeException}, so it works when thrown from a handler (Chassis's
 * error mapping turns it into its status), when passed to {@code responseObserver.onError}, and
 * with plain grpc-java. The {@linkplain #getCause() cause}, if any, is logged by the server and
 * never sent.
 *
 * <pre>{@code
 * throw ServiceException.newBuilder(Status.Code.FAILED_PRECONDITION, "account is frozen")
 *     .errorInfo("ACCOUNT_FROZEN", "accounts.example.com", Map.of("account", id))
 *     .build();
 * }</pre>
 *
 * <p>The common cases have their own types: {@link NotFoundException}, {@link
 * AlreadyExistsException}, {@link InvalidArgumentException}, {@link UnavailableException}.
 */
public class ServiceException extends StatusRuntimeException {
  private static final long serialVersionUID = 1L;

  @SuppressWarnings("serial") // protobuf messages are Serializable; the list is immutable.
  private final com.google.rpc.Status rpcStatus;

  /**
   * Creates an exception with the given code, caller-facing message and detail messages.
   *
   * @param code any code but {@code OK}
   * @param message shown to the caller: no internals, no personal data
   * @param details {@code google.rpc} detail messages, packed into {@code Any}
   * @param cause logged on the server, never sent; may be null
   */
  protected ServiceException(
      Status.Code code,
      String message,
      List<? extends Message> details,
      @Nullable Throwable cause) {
    this(rpcStatus(code, message, details), cause);
  }

  private ServiceException(com.google.rpc.Status rpcStatus, @Nullable Throwable cause) {
    super(
        Status.fromCodeValue(rpcStatus.getCode())
            .withDescription(rpcStatus.getMessage())
            .withCause(cause),
        trailers(rpcStatus));
    this.rpcStatus = rpcStatus;
  }

  /** Starts an exception with any code but {@code OK}. */
  public static Builder newBuilder(Status.Code code, String message) {
    return new Builder(code, message);
  }

  /** The {@code google.rpc.Status} sent to the caller, with code, message and details. */
  public com.google.rpc.Status toRpcStatus() {
    return rpcStatus;
  }

  /** The status code. */
  public Status.Code code() {
    return getStatus().getCode();
  }

  static ResourceInfo resourceInfo(String resourceType, String resourceName) {
    return ResourceInfo.newBuilder()
        .setResourceType(resourceType)
        .setResourceName(resourceName)
        .build();
  }

  private static com.google.rpc.Status rpcStatus(
      Status.Code code, String message, List<? extends Message> details) {
    if (code == Status.Code.OK) {
      throw new IllegalArgumentException("code: OK (expected: an error code)");
    }
    com.google.rpc.Status.Builder status =
        com.google.rpc.Status.newBuilder().setCode(code.value()).setMessage(message);
    for (Message detail : details) {
      status.addDetails(Any.pack(detail));
    }
    return status.build();
  }

  private static Metadata trailers(com.google.rpc.Status rpcStatus) {
    Metadata trailers = StatusProto.toStatusRuntimeException(rpcStatus).getTrailers();
    return trailers == null ? new Metadata() : trailers;
  }

  /** Builds a {@link ServiceException} with any code and details. */
  public static final class Builder {
    private final Status.Code code;
    private final String message;
    private final List<Message> details = new ArrayList<>();
    private @Nullable Throwable cause;

    private Builder(Status.Code code, String message) {
      if (code == Status.Code.OK) {
        throw new IllegalArgumentException("code: OK (expected: an error code)");
      }
      this.code = code;
      this.message = message;
    }

    /** Adds a {@code google.rpc} detail message (any protobuf message works). */
    public Builder addDetail(Message detail) {
      details.add(detail);
      return this;
    }

    /** Adds a {@code google.rpc.ErrorInfo}: a machine-readable reason in UPPER_SNAKE_CASE. */
    public Builder errorInfo(String reason, String domain, Map<String, String> metadata) {
      return addDetail(
          ErrorInfo.newBuilder()
              .setReason(reason)
              .setDomain(domain)
              .putAllMetadata(metadata)
              .build());
    }

    /** Adds a {@code google.rpc.RetryInfo} telling the caller when a retry may succeed. */
    public Builder retryDelay(Duration delay) {
      return addDetail(RetryInfo.newBuilder().setRetryDelay(Durations.toProto(delay)).build());
    }

    /** The exception behind this one; logged by the server, never sent to the caller. */
    public Builder cause(Throwable cause) {
      this.cause = cause;
      return this;
    }

    /** Builds the exception. */
    public ServiceException build() {
      return new ServiceException(code, message, List.copyOf(details), cause);
    }
  }
}
