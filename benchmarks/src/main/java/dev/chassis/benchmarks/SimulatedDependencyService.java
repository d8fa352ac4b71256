package dev.chassis.benchmarks;

import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The service under load: one unary method, {@value #SERVICE_NAME}/{@code Call}, whose handler
 * stands for a call to a dependency with a fixed service time. It blocks its handler thread for
 * that time (sleeping, so it costs no CPU) and answers with an empty message.
 *
 * <p>With {@code n} handler threads ({@code chassis.grpc.executor-threads}) and service time {@code
 * s}, the server completes at most {@code n / s} calls per second, whatever the offered load: that
 * is the capacity the benchmark drives past. Like a typical blocking handler (a JDBC query without
 * a timeout of its own) it does not look at the call's deadline, so work accepted too late is still
 * done, and wasted.
 *
 * <p>No protobuf: requests and responses are raw bytes, so the benchmark measures the server's
 * queueing and limiting, not serialization.
 */
final class SimulatedDependencyService {
  static final String SERVICE_NAME = "chassis.benchmarks.Saturation";

  /** The one method: unary, raw bytes in and out. */
  static final MethodDescriptor<byte[], byte[]> CALL =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE_NAME, "Call"))
          .setRequestMarshaller(new BytesMarshaller())
          .setResponseMarshaller(new BytesMarshaller())
          .build();

  private static final byte[] EMPTY = new byte[0];

  private SimulatedDependencyService() {}

  /**
   * The service definition, each call holding its handler thread for {@code serviceTime}.
   *
   * @param completedWork counts handler runs that did their full service time, answered or not
   */
  static ServerServiceDefinition definition(Duration serviceTime, LongAdder completedWork) {
    long serviceNanos = serviceTime.toNanos();
    return ServerServiceDefinition.builder(SERVICE_NAME)
        .addMethod(
            CALL,
            ServerCalls.asyncUnaryCall(
                (byte[] request, StreamObserver<byte[]> response) -> {
                  try {
                    TimeUnit.NANOSECONDS.sleep(serviceNanos);
                  } catch (InterruptedException e) {
                    // Only when the server is being stopped forcibly.
                    Thread.currentThread().interrupt();
                    response.onError(Status.CANCELLED.withDescription("interrupted").asException());
                    return;
                  }
                  completedWork.increment();
                  response.onNext(EMPTY);
                  response.onCompleted();
                }))
        .build();
  }

  /** Passes bytes through unchanged. */
  private static final class BytesMarshaller implements MethodDescriptor.Marshaller<byte[]> {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw Status.INTERNAL
            .withDescription("cannot read message")
            .withCause(e)
            .asRuntimeException();
      }
    }
  }
}
