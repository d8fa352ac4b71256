package dev.chassis.internal.grpc;

import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client call that fails with a fixed status without touching the network (an open circuit
 * breaker, an injected fault). The close is delivered on {@code executor} in {@code context}, as
 * grpc delivers every callback, never inside {@code start}: a blocking stub waits for a task on its
 * executor, and a listener that throws must not unwind into the caller. Such a throw is logged, as
 * grpc does for its own callbacks.
 */
public final class FailedClientCall<ReqT, RespT> extends ClientCall<ReqT, RespT> {
  private static final Logger logger = LoggerFactory.getLogger(FailedClientCall.class);

  private final Status status;
  private final Executor executor;
  private final Context context;

  /**
   * @param executor the call's executor ({@code CallOptions.getExecutor()}) or a fallback
   * @param context the context the call was created in
   */
  public FailedClientCall(Status status, Executor executor, Context context) {
    this.status = status;
    this.executor = executor;
    this.context = context;
  }

  @Override
  public void start(Listener<RespT> listener, Metadata headers) {
    executor.execute(
        context.wrap(
            () -> {
              try {
                listener.onClose(status, new Metadata());
              } catch (RuntimeException e) {
                logger.warn("call listener threw in onClose", e);
              }
            }));
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
