package dev.chassis.testing;

import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/**
 * Entry points of the gRPC assertions.
 *
 * <pre>{@code
 * assertThatGrpc(() -> users.createUser(request))
 *     .failsWith(Status.Code.INVALID_ARGUMENT)
 *     .hasBadRequestViolation("email");
 * }</pre>
 */
public final class GrpcAssertions {
  private GrpcAssertions() {}

  /** Asserts on what the call does: {@code failsWith(code)} or {@code succeeds()}. */
  public static GrpcCallAssert assertThatGrpc(ThrowingCallable call) {
    return new GrpcCallAssert(call);
  }

  /** Asserts on a {@code google.rpc.Status}, for example a per-item error inside a stream. */
  public static RpcStatusAssert assertThatRpcStatus(com.google.rpc.Status status) {
    return new RpcStatusAssert(status);
  }
}
