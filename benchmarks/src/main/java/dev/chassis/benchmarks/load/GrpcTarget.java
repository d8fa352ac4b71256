package dev.chassis.benchmarks.load;

import com.google.protobuf.Message;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;

/**
 * Calls one gRPC method over plaintext channels, one TCP connection each. Callbacks run on the
 * Netty event loop (direct executor): they only record and start the next call.
 */
final class GrpcTarget implements CallTarget {
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final MethodDescriptor<Message, Message> method;
  private final LongFunction<Message> requests;
  private final long timeoutNanos;

  /**
   * @param requests the request of call {@code n}
   * @param timeoutNanos each call's deadline
   */
  @SuppressWarnings("unchecked")
  GrpcTarget(
      String host,
      int port,
      int connections,
      MethodDescriptor<? extends Message, ? extends Message> method,
      LongFunction<Message> requests,
      long timeoutNanos) {
    this.method = (MethodDescriptor<Message, Message>) method;
    this.requests = requests;
    this.timeoutNanos = timeoutNanos;
    for (int i = 0; i < connections; i++) {
      channels.add(
          NettyChannelBuilder.forAddress(host, port)
              .usePlaintext()
              .directExecutor()
              .maxInboundMessageSize(64 * 1024 * 1024)
              .build());
    }
  }

  @Override
  public void start(long sequence, int connection, Completion completion) {
    ManagedChannel channel = channels.get(Math.floorMod(connection, channels.size()));
    CallOptions options = CallOptions.DEFAULT.withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS);
    Message request = requests.apply(sequence);
    Observer observer = new Observer(completion);
    if (method.getType() == MethodDescriptor.MethodType.SERVER_STREAMING) {
      ClientCalls.asyncServerStreamingCall(channel.newCall(method, options), request, observer);
    } else {
      ClientCalls.asyncUnaryCall(channel.newCall(method, options), request, observer);
    }
  }

  @Override
  public String describe() {
    return method.getFullMethodName();
  }

  @Override
  public void close() {
    for (ManagedChannel channel : channels) {
      channel.shutdownNow();
    }
    for (ManagedChannel channel : channels) {
      try {
        channel.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static final class Observer implements StreamObserver<Message> {
    private final Completion completion;
    private int messages;

    Observer(Completion completion) {
      this.completion = completion;
    }

    @Override
    public void onNext(Message value) {
      messages++;
    }

    @Override
    public void onError(Throwable t) {
      completion.done(Status.fromThrowable(t).getCode().name(), false, messages);
    }

    @Override
    public void onCompleted() {
      completion.done("OK", true, messages);
    }
  }
}
