package dev.chassis.testing;

import dev.chassis.errors.InvalidArgumentException;
import dev.chassis.errors.NotFoundException;
import dev.chassis.errors.ServiceException;
import dev.chassis.testkit.v1.EchoRequest;
import dev.chassis.testkit.v1.EchoResponse;
import dev.chassis.testkit.v1.EchoServiceGrpc;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/** Counts its calls, so tests can tell a fresh instance from a shared one. */
final class EchoService extends EchoServiceGrpc.EchoServiceImplBase {
  private final AtomicInteger calls = new AtomicInteger();

  @Override
  public void echo(EchoRequest request, StreamObserver<EchoResponse> response) {
    int call = calls.incrementAndGet();
    switch (request.getText()) {
      case "missing" -> throw new NotFoundException("echo", "missing");
      case "invalid" -> throw InvalidArgumentException.forField("text", "must not be 'invalid'");
      case "busy" ->
          throw ServiceException.newBuilder(Status.Code.RESOURCE_EXHAUSTED, "slow down")
              .errorInfo("RATE_LIMITED", "echo.test", Map.of())
              .retryDelay(Duration.ofMillis(1500))
              .build();
      case "crash" -> throw new IllegalStateException("java.sql.SQLException: secret");
      default -> {
        response.onNext(
            EchoResponse.newBuilder().setText(request.getText()).setCalls(call).build());
        response.onCompleted();
      }
    }
  }
}
