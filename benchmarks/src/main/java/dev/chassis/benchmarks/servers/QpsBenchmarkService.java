package dev.chassis.benchmarks.servers;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.benchmarks.Utils;
import io.grpc.benchmarks.proto.Messages.SimpleRequest;
import io.grpc.benchmarks.proto.Messages.SimpleResponse;
import io.grpc.benchmarks.qps.AsyncServer;
import io.grpc.stub.StreamObserver;

/**
 * {@code grpc.testing.BenchmarkService} as grpc-java's own qps server ({@link AsyncServer}) serves
 * it, so grpc's {@code qps_client} can load a bench server: {@code UnaryCall} answers with a
 * payload of the request's {@code response_size} zero bytes, built by grpc's {@link
 * Utils#makeResponse}. Unary calls are counted in the server's {@link Outcomes}; the streaming
 * methods are grpc's, uncounted.
 */
final class QpsBenchmarkService extends AsyncServer.BenchmarkServiceImpl {
  private final Outcomes outcomes;

  QpsBenchmarkService(Outcomes outcomes) {
    this.outcomes = outcomes;
  }

  @Override
  public void unaryCall(SimpleRequest request, StreamObserver<SimpleResponse> response) {
    SimpleResponse reply;
    try {
      reply = Utils.makeResponse(request);
    } catch (StatusRuntimeException e) {
      outcomes.record(e.getStatus().getCode());
      response.onError(e);
      return;
    }
    response.onNext(reply);
    outcomes.record(Status.Code.OK);
    response.onCompleted();
  }
}
