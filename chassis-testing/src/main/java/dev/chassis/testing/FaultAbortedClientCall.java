package dev.chassis.testing;

import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;

/**
 * A client call that never reaches the network: {@code start} closes its listener with the fault
 * status, on the call's executor (never inside {@code start} itself).
 */
final class FaultAbortedClientCall<ReqT, RespT> extends ClientCall<ReqT, RespT> {
  private final Status status;
  private final Executor executor;
  private final Context context;

  FaultAbortedClientCall(Status status, Executor executor, Context context) {
    this.status = status;
    this.executor = executor;
    this.context = context;
  }

  @Override
  public void start(Listener<RespT> responseListener, Metadata headers) {
    executor.execute(context.wrap(() -> responseListener.onClose(status, new Metadata())));
  }

  @Override
  public void request(int numMessages) {}

  @Override
  public void cancel(@Nullable String message, @Nullable Throwable cause) {}

  @Override
  public void halfClose() {}

  @Override
  public void sendMessage(ReqT message) {}
}
