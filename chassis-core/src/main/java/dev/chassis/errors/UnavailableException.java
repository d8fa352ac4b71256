package dev.chassis.errors;

import com.google.protobuf.Message;
import com.google.rpc.RetryInfo;
import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * {@code UNAVAILABLE}: a dependency is down or the service is draining; the caller may retry, after
 * {@code retryDelay} when one is given ({@code google.rpc.RetryInfo}). The cause is logged by the
 * server and never sent.
 */
public final class UnavailableException extends ServiceException {
  private static final long serialVersionUID = 1L;

  /** An unavailable error with a caller-facing message and the underlying cause (may be null). */
  public UnavailableException(String message, @Nullable Throwable cause) {
    super(Status.Code.UNAVAILABLE, message, List.of(), cause);
  }

  /**
   * As {@link #UnavailableException(String, Throwable)}, advising a retry after {@code retryDelay}.
   */
  public UnavailableException(String message, Duration retryDelay, @Nullable Throwable cause) {
    super(Status.Code.UNAVAILABLE, message, List.of(retryInfo(retryDelay)), cause);
  }

  private static Message retryInfo(Duration retryDelay) {
    return RetryInfo.newBuilder().setRetryDelay(Durations.toProto(retryDelay)).build();
  }
}
