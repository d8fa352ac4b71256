package dev.chassis.testing;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.jspecify.annotations.Nullable;

/** Runs a gRPC call and asserts on its outcome; see {@link GrpcAssertions#assertThatGrpc}. */
public final class GrpcCallAssert {
  private final @Nullable Throwable thrown;

  GrpcCallAssert(ThrowingCallable call) {
    Throwable caught = null;
    try {
      call.call();
    } catch (Throwable t) {
      caught = t;
    }
    this.thrown = caught;
  }

  /**
   * Asserts the call failed with {@code code} and returns assertions on the full status the client
   * received (message and {@code google.rpc} details from {@code grpc-status-details-bin}).
   */
  public RpcStatusAssert failsWith(Status.Code code) {
    Throwable t = thrown;
    if (t == null) {
      throw new AssertionError("expected the call to fail with " + code + " but it succeeded");
    }
    if (!(t instanceof StatusRuntimeException) && !(t instanceof StatusException)) {
      AssertionError error =
          new AssertionError("expected a gRPC status exception with " + code + " but got " + t);
      error.initCause(t);
      throw error;
    }
    com.google.rpc.Status status = StatusProto.fromThrowable(t);
    if (status == null) {
      Status grpcStatus = Status.fromThrowable(t);
      String description = grpcStatus.getDescription();
      status =
          com.google.rpc.Status.newBuilder()
              .setCode(grpcStatus.getCode().value())
              .setMessage(description == null ? "" : description)
              .build();
    }
    return new RpcStatusAssert(status).hasCode(code);
  }

  /** Asserts the call completed without an exception. */
  public void succeeds() {
    Throwable t = thrown;
    if (t != null) {
      AssertionError error = new AssertionError("expected the call to succeed but it failed: " + t);
      error.initCause(t);
      throw error;
    }
  }
}
