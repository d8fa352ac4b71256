package dev.chassis.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.chassis.Chassis;
import dev.chassis.ChassisConfig;
import dev.chassis.observability.metrics.ChassisMetrics;
import dev.chassis.server.ChassisServer;
import dev.chassis.test.v1.TestRequest;
import dev.chassis.test.v1.TestResponse;
import dev.chassis.test.v1.TestServiceGrpc;
import dev.chassis.testsupport.TestServers;
import dev.chassis.testsupport.TestServiceImpl;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Server and client call metrics, read back as Prometheus text like a scraper would. */
class GrpcMetricsTest {
  private static final String UNARY = "chassis.test.v1.TestService/Unary";
  private static final String STREAM = "chassis.test.v1.TestService/ServerStream";

  private final PrometheusMeterRegistry serverRegistry =
      ChassisMetrics.newPrometheusRegistry("metrics-test");
  private final PrometheusMeterRegistry clientRegistry =
      ChassisMetrics.newPrometheusRegistry("metrics-client");
  private ChassisServer server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    server =
        ChassisServer.newBuilder(TestServers.loopback("chassis.admin.port = -1"))
            .addService(new TestServiceImpl())
            .meterRegistry(serverRegistry)
            .start();
    ChassisConfig config =
        TestServers.loopback(
            "chassis.clients.tested.target = \"static:///127.0.0.1:%d\"".formatted(server.port()));
    channel = Chassis.channel(config, "tested").meterRegistry(clientRegistry).build();
  }

  @AfterEach
  void stop() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.close();
  }

  @Test
  void serverMetrics_countsDurationsByStatusAndMessages() {
    TestServiceGrpc.TestServiceBlockingStub stub = stub();
    stub.unary(request("ok"));
    stub.unary(request("ok"));
    try {
      stub.unary(request("not-found"));
    } catch (StatusRuntimeException expected) {
      // counted below
    }
    Iterator<TestResponse> streamed =
        stub.serverStream(TestRequest.newBuilder().setCount(4).build());
    streamed.forEachRemaining(r -> {});

    String scrape = serverRegistry.scrape();

    assertThat(sample(scrape, "grpc_server_call_started_total", UNARY, "")).isEqualTo(3);
    assertThat(sample(scrape, "grpc_server_call_duration_seconds_count", UNARY, "OK")).isEqualTo(2);
    assertThat(sample(scrape, "grpc_server_call_duration_seconds_count", UNARY, "NOT_FOUND"))
        .isEqualTo(1);
    assertThat(scrape)
        .contains("grpc_server_call_duration_seconds_bucket{")
        .contains("le=\"0.005\"")
        .contains("grpc_method_type=\"UNARY\"")
        .contains("grpc_method_type=\"SERVER_STREAMING\"")
        .contains("service=\"metrics-test\"");
    assertThat(sample(scrape, "grpc_server_call_sent_messages_total", STREAM, "")).isEqualTo(4);
    assertThat(sample(scrape, "grpc_server_call_rcvd_messages_total", STREAM, "")).isEqualTo(1);
    assertThat(sample(scrape, "grpc_server_call_active", UNARY, "")).isZero();
  }

  @Test
  void clientMetrics_countCallsByTargetAndStatus() {
    stub().unary(request("ok"));

    String scrape = clientRegistry.scrape();

    assertThat(sample(scrape, "grpc_client_call_started_total", UNARY, "")).isEqualTo(1);
    assertThat(sample(scrape, "grpc_client_call_duration_seconds_count", UNARY, "OK")).isEqualTo(1);
    assertThat(scrape).contains("grpc_target=\"tested\"");
  }

  @Test
  void activeGauge_showsCallsInFlight_andExpiredCallsAreRecordedAsDeadlineExceeded()
      throws Exception {
    stub().unary(request("ok")); // connection up, so the deadline below covers only the call
    CompletableFuture<Void> slow =
        CompletableFuture.runAsync(
            () -> {
              try {
                TestServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(1, TimeUnit.SECONDS)
                    .unary(TestRequest.newBuilder().setAction("sleep").setDelayMs(3000).build());
              } catch (StatusRuntimeException expected) {
                // DEADLINE_EXCEEDED on both sides
              }
            });

    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> sample(serverRegistry.scrape(), "grpc_server_call_active", UNARY, "") == 1);
    slow.get(5, TimeUnit.SECONDS);

    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                sample(
                        serverRegistry.scrape(),
                        "grpc_server_call_duration_seconds_count",
                        UNARY,
                        "DEADLINE_EXCEEDED")
                    == 1);
    assertThat(sample(serverRegistry.scrape(), "grpc_server_call_active", UNARY, "")).isZero();
    assertThat(
            sample(
                clientRegistry.scrape(),
                "grpc_client_call_duration_seconds_count",
                UNARY,
                "DEADLINE_EXCEEDED"))
        .isEqualTo(1);
  }

  @Test
  void callsGrpcClosesItself_areRecordedAsUnknown_withoutLeakingTheGauge() throws Exception {
    // The metrics interceptor alone, without Chassis's error mapping: grpc closes the call itself.
    PrometheusMeterRegistry registry = ChassisMetrics.newPrometheusRegistry("bare");
    io.grpc.Server bare =
        io.grpc.inprocess.InProcessServerBuilder.forName("metrics-bare")
            .addService(
                io.grpc.ServerInterceptors.intercept(
                    new TestServiceImpl(),
                    dev.chassis.observability.metrics.GrpcMetrics.serverInterceptor(registry)))
            .build()
            .start();
    ManagedChannel bareChannel =
        io.grpc.inprocess.InProcessChannelBuilder.forName("metrics-bare").build();
    try {
      for (int i = 0; i < 3; i++) {
        try {
          TestServiceGrpc.newBlockingStub(bareChannel)
              .withDeadlineAfter(5, TimeUnit.SECONDS)
              .unary(request("boom"));
        } catch (StatusRuntimeException expected) {
          // UNKNOWN from grpc
        }
      }

      await()
          .atMost(Duration.ofSeconds(5))
          .until(
              () ->
                  sample(
                          registry.scrape(),
                          "grpc_server_call_duration_seconds_count",
                          UNARY,
                          "UNKNOWN")
                      == 3);
      assertThat(sample(registry.scrape(), "grpc_server_call_active", UNARY, "")).isZero();
    } finally {
      bareChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      bare.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void twoServersOnOneRegistry_shareTheInFlightGauge() throws Exception {
    PrometheusMeterRegistry shared = ChassisMetrics.newPrometheusRegistry("shared");
    ChassisServer first =
        ChassisServer.newBuilder(TestServers.loopback("chassis.admin.port = -1"))
            .addService(new TestServiceImpl())
            .meterRegistry(shared)
            .start();
    ChassisServer second =
        ChassisServer.newBuilder(TestServers.loopback("chassis.admin.port = -1"))
            .addService(new TestServiceImpl())
            .meterRegistry(shared)
            .start();
    ManagedChannel toSecond = TestServers.channel(second.port());
    try {
      CompletableFuture<?> held =
          CompletableFuture.runAsync(
              () ->
                  TestServiceGrpc.newBlockingStub(toSecond)
                      .withDeadlineAfter(5, TimeUnit.SECONDS)
                      .unary(TestRequest.newBuilder().setAction("sleep").setDelayMs(1000).build()));

      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> sample(shared.scrape(), "grpc_server_call_active", UNARY, "") == 1);
      held.get(5, TimeUnit.SECONDS);
    } finally {
      toSecond.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      second.close();
      first.close();
    }
  }

  private TestServiceGrpc.TestServiceBlockingStub stub() {
    return TestServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
  }

  private static TestRequest request(String action) {
    return TestRequest.newBuilder().setAction(action).build();
  }

  /** The value of one series, by metric name, method and (if not empty) status; -1 if absent. */
  static double sample(String scrape, String metric, String method, String status) {
    Pattern line =
        Pattern.compile("^" + Pattern.quote(metric) + "\\{([^}]*)} (\\S+)$", Pattern.MULTILINE);
    Matcher matcher = line.matcher(scrape);
    double total = -1;
    while (matcher.find()) {
      String labels = matcher.group(1);
      if (labels.contains("grpc_method=\"" + method + "\"")
          && (status.isEmpty() || labels.contains("grpc_status=\"" + status + "\""))) {
        total = Math.max(total, 0) + Double.parseDouble(matcher.group(2));
      }
    }
    return total;
  }
}
