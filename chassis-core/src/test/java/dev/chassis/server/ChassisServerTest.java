package dev.chassis.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.chassis.ChassisConfig;
import dev.chassis.test.v1.TestRequest;
import dev.chassis.test.v1.TestServiceGrpc;
import dev.chassis.testsupport.TestServers;
import dev.chassis.testsupport.TestServiceImpl;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ChassisServerTest {
  private ChassisServer server;
  private ManagedChannel channel;

  @AfterEach
  void tearDown() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.close();
    }
  }

  @Test
  void start_servesApplicationHealthAndReflection() throws Exception {
    start(TestServers.loopback(""), new AtomicBoolean(true));

    String reply =
        TestServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(5, TimeUnit.SECONDS)
            .unary(TestRequest.newBuilder().setAction("ok").build())
            .getMessage();

    assertThat(reply).isEqualTo("test");
    assertThat(health("")).isEqualTo(ServingStatus.SERVING);
    assertThat(health("chassis.test.v1.TestService")).isEqualTo(ServingStatus.SERVING);
    assertThat(TestServers.reflectionServices(channel))
        .contains(
            "chassis.test.v1.TestService",
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection");
  }

  @Test
  void admin_servesLiveReadyAndMetrics() throws Exception {
    start(TestServers.loopback(""), new AtomicBoolean(true));

    HttpResponse<String> live = TestServers.get(server.adminPort(), "/health/live");
    HttpResponse<String> ready = TestServers.get(server.adminPort(), "/health/ready");
    HttpResponse<String> metrics = TestServers.get(server.adminPort(), "/metrics");
    HttpResponse<String> unknown = TestServers.get(server.adminPort(), "/metricsx");

    assertThat(live.statusCode()).isEqualTo(200);
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.body()).contains("\"status\":\"READY\"").contains("\"database\":\"UP\"");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.headers().firstValue("Content-Type"))
        .hasValueSatisfying(type -> assertThat(type).startsWith("text/plain"));
    assertThat(metrics.body())
        .contains("jvm_memory_used_bytes")
        .contains("process_cpu_usage")
        .contains("netty_direct_memory_used_bytes")
        .contains("service=\"test-service\"");
    assertThat(unknown.statusCode()).isEqualTo(404);
  }

  @Test
  void readinessCheck_failing_turnsReadinessAndHealthOffAndRecovers() throws Exception {
    AtomicBoolean database = new AtomicBoolean(true);
    start(TestServers.loopback(""), database);

    database.set(false);

    await().atMost(Duration.ofSeconds(5)).until(() -> health("") == ServingStatus.NOT_SERVING);
    assertThat(health("chassis.test.v1.TestService")).isEqualTo(ServingStatus.NOT_SERVING);
    HttpResponse<String> ready = TestServers.get(server.adminPort(), "/health/ready");
    assertThat(ready.statusCode()).isEqualTo(503);
    assertThat(ready.body())
        .contains("\"status\":\"NOT_READY\"")
        .contains("\"failing\":[\"database\"]");
    assertThat(TestServers.get(server.adminPort(), "/health/live").statusCode()).isEqualTo(200);

    database.set(true);

    await().atMost(Duration.ofSeconds(5)).until(() -> health("") == ServingStatus.SERVING);
    assertThat(TestServers.get(server.adminPort(), "/health/ready").statusCode()).isEqualTo(200);
  }

  @Test
  void readinessCheck_throwingOrHanging_countsAsFailed() throws Exception {
    ChassisConfig config = TestServers.loopback("chassis.health.check-timeout = 200ms");
    server =
        ChassisServer.newBuilder(config)
            .addService(new TestServiceImpl())
            .readinessCheck(
                "throws",
                () -> {
                  throw new IllegalStateException("connection refused");
                })
            .readinessCheck(
                "hangs",
                () -> {
                  Thread.sleep(60_000);
                  return true;
                })
            .start();
    channel = TestServers.channel(server.port());

    HttpResponse<String> ready = TestServers.get(server.adminPort(), "/health/ready");

    assertThat(ready.statusCode()).isEqualTo(503);
    assertThat(ready.body()).contains("\"failing\":[\"throws\",\"hangs\"]");
    assertThat(health("")).isEqualTo(ServingStatus.NOT_SERVING);
  }

  @Test
  void readinessCheck_ignoringInterrupts_isNotStartedAgainWhileItHangs() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger hungStarts = new AtomicInteger();
    AtomicInteger rounds = new AtomicInteger();
    ChassisConfig config =
        TestServers.loopback("chassis.health { check-interval = 50ms, check-timeout = 20ms }");
    server =
        ChassisServer.newBuilder(config)
            .addService(new TestServiceImpl())
            .readinessCheck(
                "stuck",
                () -> {
                  hungStarts.incrementAndGet();
                  while (release.getCount() > 0) {
                    try {
                      release.await();
                    } catch (InterruptedException e) {
                      // Deliberately ignored: this check imitates a socket read without timeout.
                    }
                  }
                  return true;
                })
            .readinessCheck("rounds", () -> rounds.incrementAndGet() > 0)
            .start();
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> rounds.get() >= 10);

      assertThat(hungStarts.get()).isEqualTo(1);
      assertThat(server.isReady()).isFalse();
    } finally {
      release.countDown();
    }
  }

  @Test
  void start_adminPortTaken_failsAndReleasesTheGrpcPort() throws Exception {
    int grpcPort;
    try (ServerSocket probe = new ServerSocket(0, 0, InetAddress.getLoopbackAddress())) {
      grpcPort = probe.getLocalPort();
    }
    try (ServerSocket taken = new ServerSocket(0, 0, InetAddress.getLoopbackAddress())) {
      ChassisConfig config =
          TestServers.loopback(
              "chassis { grpc.port = %d, admin.port = %d }"
                  .formatted(grpcPort, taken.getLocalPort()));

      assertThatThrownBy(
              () -> ChassisServer.newBuilder(config).addService(new TestServiceImpl()).start())
          .isInstanceOf(java.io.IOException.class);
    }

    server =
        ChassisServer.newBuilder(TestServers.loopback("chassis.grpc.port = " + grpcPort))
            .addService(new TestServiceImpl())
            .start();

    assertThat(server.port()).isEqualTo(grpcPort);
  }

  @Test
  void limitsFromConfig_rateLimitTheServiceButNeverHealth() throws Exception {
    start(
        TestServers.loopback(
            "chassis.limits.rate.methods { \"chassis.test.v1.TestService/Unary\" { permits = 2, period = 1h } }"),
        new AtomicBoolean(true));
    TestServiceGrpc.TestServiceBlockingStub stub =
        TestServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
    stub.unary(TestRequest.newBuilder().setAction("ok").build());
    stub.unary(TestRequest.newBuilder().setAction("ok").build());

    io.grpc.StatusRuntimeException third =
        org.assertj.core.api.Assertions.catchThrowableOfType(
            io.grpc.StatusRuntimeException.class,
            () -> stub.unary(TestRequest.newBuilder().setAction("ok").build()));

    assertThat(third.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.RESOURCE_EXHAUSTED);
    for (int i = 0; i < 10; i++) {
      assertThat(health("")).isEqualTo(ServingStatus.SERVING);
    }
  }

  @Test
  void secondServerOnOneRegistry_reportsItsOwnConcurrencyLimit() throws Exception {
    io.micrometer.prometheusmetrics.PrometheusMeterRegistry shared =
        dev.chassis.observability.metrics.ChassisMetrics.newPrometheusRegistry("limits");
    ChassisServer first =
        ChassisServer.newBuilder(TestServers.loopback("chassis.limits.concurrency.limit = 5"))
            .addService(new TestServiceImpl())
            .meterRegistry(shared)
            .start();
    first.close();

    server =
        ChassisServer.newBuilder(TestServers.loopback("chassis.limits.concurrency.limit = 99"))
            .addService(new TestServiceImpl())
            .meterRegistry(shared)
            .start();

    assertThat(shared.scrape()).containsPattern("chassis_server_concurrency_limit\\{[^}]*} 99\\.0");
  }

  @Test
  void adminPortMinusOne_disablesAdmin() throws Exception {
    start(TestServers.loopback("chassis.admin.port = -1"), new AtomicBoolean(true));

    assertThat(server.adminPort()).isEqualTo(-1);
    assertThat(health("")).isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void reflectionOff_servesNoReflection() throws Exception {
    start(TestServers.loopback("chassis.grpc.reflection = false"), new AtomicBoolean(true));

    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> TestServers.reflectionServices(channel))
        .hasMessageContaining("UNIMPLEMENTED");
  }

  private void start(ChassisConfig config, AtomicBoolean database) throws Exception {
    server =
        ChassisServer.newBuilder(config)
            .addService(new TestServiceImpl())
            .readinessCheck("database", database::get)
            .start();
    channel = TestServers.channel(server.port());
  }

  private ServingStatus health(String service) {
    return HealthGrpc.newBlockingStub(channel)
        .withDeadlineAfter(5, TimeUnit.SECONDS)
        .check(HealthCheckRequest.newBuilder().setService(service).build())
        .getStatus();
  }
}
