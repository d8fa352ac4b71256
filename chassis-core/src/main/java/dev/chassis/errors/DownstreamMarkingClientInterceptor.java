package dev.chassis.errors;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;

/**
 * Adds a local trailer ({@link ErrorStatuses#DOWNSTREAM}) to every failed call, so that a server
 * handler that lets the resulting exception escape does not forward another service's status,
 * message and details to its own caller as if they were its own.
 */
final class DownstreamMarkingClientInterceptor implements ClientInterceptor {
  private final String target;

  DownstreamMarkingClientInterceptor(String target) {
    this.target = target;
  }

  @Override
  public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
      MethodDescriptor<ReqT, RespT> method, CallOptions callOptions, Channel next) {
    return new SimpleForwardingClientCall<>(next.newCall(method, callOptions)) {
      @Override
      public void start(Listener<RespT> listener, Metadata headers) {
        super.start(
            new SimpleForwardingClientCallListener<>(listener) {
              @Override
              public void onClose(Status status, Metadata trailers) {
                if (!status.isOk()) {
                  trailers.put(ErrorStatuses.DOWNSTREAM, target);
                }
                super.onClose(status, trailers);
              }
            },
            headers);
      }
    };
  }
}
