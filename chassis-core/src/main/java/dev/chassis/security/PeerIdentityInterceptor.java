package dev.chassis.security;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.util.Optional;

/** Puts the peer's verified identity in the call's {@link Context} ({@link PeerIdentities}). */
final class PeerIdentityInterceptor implements ServerInterceptor {
  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    Optional<PeerIdentity> identity = PeerIdentities.of(call);
    if (identity.isEmpty()) {
      return next.startCall(call, headers);
    }
    Context context = Context.current().withValue(PeerIdentities.CONTEXT_KEY, identity.get());
    return Contexts.interceptCall(context, call, headers, next);
  }
}
