package dev.chassis.resilience;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import dev.chassis.Chassis;
import dev.chassis.ChassisConfig;
import dev.chassis.observability.metrics.ChassisMetrics;
import dev.chassis.server.ChassisServer;
import dev.chassis.test.v1.TestRequest;
import dev.chassis.test.v1.TestServiceGrpc;
import dev.chassis.testsupport.CountingInterceptor;
import dev.chassis.testsupport.TestServers;
import dev.chassis.testsupport.TestServiceImpl;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The status-aware breaker between a real client channel and a real server on loopback. */
class CircuitBreakerTest {
  private final CountingInterceptor reached = CountingInterceptor.counting();
  private final PrometheusMeterRegistry metrics = ChassisMetrics.newPrometheusRegistry("cb-test");
  private ChassisServer server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    server =
        ChassisServer.newBuilder(TestServers.loopback("chassis.admin.port = -1"))
            .addService(new TestServiceImpl())
            .intercept(reached)
            .start();
    ChassisConfig config =
        TestServers.loopback(
            """
            chassis.clients.dep {
              target = "static:///127.0.0.1:%d"
              circuit-breaker {
                sliding-window-size = 10
                minimum-number-of-calls = 5
                failure-rate-threshold = 50
                wait-duration-in-open-state = 300ms
                permitted-calls-in-half-open-state = 2
              }
            }
            """
                .formatted(server.port()));
    channel = Chassis.channel(config, "dep").meterRegistry(metrics).build();
  }

  @AfterEach
  void stop() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.close();
  }

  @Test
  void failures_openTheBreaker_thenCallsFailFastWithoutNetwork() {
    for (int i = 0; i < 5; i++) {
      assertThat(code("unavailable")).isEqualTo(Status.Code.UNAVAILABLE);
    }
    int reachedBefore = reached.calls();

    StatusRuntimeException rejected = failure("ok");
    long start = System.nanoTime();
    int rejections = 1000;
    for (int i = 0; i < rejections; i++) {
      failure("ok");
    }
    long averageNanos = (System.nanoTime() - start) / rejections;

    assertThat(rejected.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(rejected.getStatus().getDescription()).contains("circuit breaker 'dep' is OPEN");
    assertThat(reached.calls()).as("no rejected call reached the server").isEqualTo(reachedBefore);
    // Generous bound on purpose (typically a few microseconds): proves no network round trip.
    assertThat(averageNanos).isLessThan(TimeUnit.MILLISECONDS.toNanos(1));
    assertThat(metrics.scrape())
        .containsPattern(
            "resilience4j_circuitbreaker_state\\{[^}]*name=\"dep\"[^}]*state=\"open\"[^}]*} 1\\.0");
  }

  @Test
  void callerErrors_neverOpenTheBreaker() {
    for (int i = 0; i < 30; i++) {
      assertThat(code("not-found")).isEqualTo(Status.Code.NOT_FOUND);
      assertThat(code("invalid")).isEqualTo(Status.Code.INVALID_ARGUMENT);
    }

    assertThat(code("ok")).isEqualTo(Status.Code.OK);
    assertThat(metrics.scrape())
        .containsPattern("resilience4j_circuitbreaker_state\\{[^}]*state=\"closed\"[^}]*} 1\\.0");
  }

  @Test
  void openBreaker_halfOpensAfterTheWait_andClosesOnSuccessfulProbes() {
    for (int i = 0; i < 5; i++) {
      code("unavailable");
    }
    assertThat(code("ok")).isEqualTo(Status.Code.UNAVAILABLE);

    await()
        .atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> code("ok") == Status.Code.OK);
    assertThat(code("ok")).isEqualTo(Status.Code.OK);

    assertThat(metrics.scrape())
        .containsPattern("resilience4j_circuitbreaker_state\\{[^}]*state=\"closed\"[^}]*} 1\\.0");
  }

  @Test
  void callsCancelledBeforeStart_giveTheirHalfOpenPermitBack() {
    for (int i = 0; i < 5; i++) {
      code("unavailable");
    }
    // Half-open (after 300 ms) with 2 probe permits: take them with calls that never start.
    await()
        .atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              cancelBeforeStart();
              return metrics.scrape().matches("(?s).*state=\"half_open\"[^}]*} 1\\.0.*");
            });
    cancelBeforeStart();

    await()
        .atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> code("ok") == Status.Code.OK);
    assertThat(metrics.scrape()).containsPattern("grpc_client_call_active\\{[^}]*} 0\\.0");
  }

  @Test
  void rejections_areDeliveredOnTheCallExecutor_andNeverLeakTheInFlightGauge() throws Exception {
    for (int i = 0; i < 5; i++) {
      code("unavailable");
    }
    java.util.concurrent.CompletableFuture<Status> result =
        new java.util.concurrent.CompletableFuture<>();

    TestServiceGrpc.newStub(channel)
        .unary(
            TestRequest.newBuilder().setAction("ok").build(),
            new io.grpc.stub.StreamObserver<>() {
              @Override
              public void onNext(dev.chassis.test.v1.TestResponse value) {}

              @Override
              public void onError(Throwable t) {
                result.complete(Status.fromThrowable(t));
                throw new IllegalStateException("a listener that throws");
              }

              @Override
              public void onCompleted() {}
            });

    assertThat(result.get(5, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> metrics.scrape().contains("grpc_client_call_active{"));
    assertThat(metrics.scrape()).containsPattern("grpc_client_call_active\\{[^}]*} 0\\.0");
  }

  private void cancelBeforeStart() {
    io.grpc.ClientCall<TestRequest, dev.chassis.test.v1.TestResponse> call =
        channel.newCall(TestServiceGrpc.getUnaryMethod(), io.grpc.CallOptions.DEFAULT);
    call.cancel("changed my mind", null);
  }

  @Test
  void failingStreams_countByTheirFinalStatus() {
    for (int i = 0; i < 5; i++) {
      StatusRuntimeException e =
          catchThrowableOfType(
              StatusRuntimeException.class,
              () ->
                  TestServiceGrpc.newBlockingStub(channel)
                      .withDeadlineAfter(5, TimeUnit.SECONDS)
                      .serverStream(TestRequest.newBuilder().setAction("fail-stream").build())
                      .forEachRemaining(r -> {}));
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    }

    assertThat(failure("ok").getStatus().getDescription()).contains("is OPEN");
  }

  private Status.Code code(String action) {
    try {
      TestServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(5, TimeUnit.SECONDS)
          .unary(TestRequest.newBuilder().setAction(action).build());
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  private StatusRuntimeException failure(String action) {
    return catchThrowableOfType(
        StatusRuntimeException.class,
        () ->
            TestServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .unary(TestRequest.newBuilder().setAction(action).build()));
  }
}
