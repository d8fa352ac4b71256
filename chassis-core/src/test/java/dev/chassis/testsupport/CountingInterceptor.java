package dev.chassis.testsupport;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.concurrent.atomic.AtomicInteger;

/** Counts calls that reach it; optionally answers every call with a fixed status instead. */
public final class CountingInterceptor implements ServerInterceptor {
  private final AtomicInteger calls = new AtomicInteger();
  private final Status failWith;

  private CountingInterceptor(Status failWith) {
    this.failWith = failWith;
  }

  /** Counts and passes calls on. */
  public static CountingInterceptor counting() {
    return new CountingInterceptor(Status.OK);
  }

  /** Counts and fails every call with {@code status}, like a sick backend. */
  public static CountingInterceptor failingWith(Status status) {
    return new CountingInterceptor(status);
  }

  public int calls() {
    return calls.get();
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    calls.incrementAndGet();
    if (!failWith.isOk()) {
      call.close(failWith, new Metadata());
      return new ServerCall.Listener<>() {};
    }
    return next.startCall(call, headers);
  }
}
