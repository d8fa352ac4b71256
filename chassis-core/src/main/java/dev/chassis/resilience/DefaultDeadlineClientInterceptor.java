package dev.chassis.resilience;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Context;
import io.grpc.MethodDescriptor;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Gives a call a deadline only when it has none: neither from the caller ({@code
 * withDeadlineAfter}) nor inherited from the gRPC {@link Context} (inside a handler, grpc bounds
 * outgoing calls by the incoming call's remaining time by itself).
 */
final class DefaultDeadlineClientInterceptor implements ClientInterceptor {
  private final Function<String, Duration> timeoutForMethod;
  private final ConcurrentMap<String, Long> nanosByMethod = new ConcurrentHashMap<>();

  DefaultDeadlineClientInterceptor(Function<String, Duration> timeoutForMethod) {
    this.timeoutForMethod = timeoutForMethod;
  }

  @Override
  public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
      MethodDescriptor<ReqT, RespT> method, CallOptions callOptions, Channel next) {
    if (callOptions.getDeadline() == null && Context.current().getDeadline() == null) {
      long nanos =
          nanosByMethod.computeIfAbsent(
              method.getFullMethodName(), name -> timeoutForMethod.apply(name).toNanos());
      if (nanos > 0) {
        callOptions = callOptions.withDeadlineAfter(nanos, TimeUnit.NANOSECONDS);
      }
    }
    return next.newCall(method, callOptions);
  }
}
