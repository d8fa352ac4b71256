package dev.chassis.resilience;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.MethodDescriptor;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Gives a call the configured timeout when the caller set no deadline ({@code withDeadlineAfter}).
 * Inside a handler grpc also bounds the call by the incoming call's remaining time (the {@link
 * Context} deadline) and uses whichever is earlier, so the default never extends an inherited
 * budget and a caller's own deadline is never shortened.
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
    if (callOptions.getDeadline() == null) {
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
