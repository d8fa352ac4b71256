package dev.chassis.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.chassis.Chassis;
import dev.chassis.ChassisConfig;
import dev.chassis.server.ChassisServer;
import dev.chassis.test.v1.TestRequest;
import dev.chassis.test.v1.TestServiceGrpc;
import dev.chassis.testsupport.TestServers;
import dev.chassis.testsupport.TestServiceImpl;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Client-side health checking and outlier detection, against real servers. */
class LoadBalancingTest {
  private final List<ChassisServer> servers = new ArrayList<>();
  private ManagedChannel channel;

  @AfterEach
  void tearDown() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    servers.forEach(ChassisServer::close);
  }

  @Test
  void healthCheck_takesANotServingBackendOutOfRotationAndBack() throws Exception {
    AtomicBoolean bReady = new AtomicBoolean(true);
    ChassisServer a = start("a", () -> true, null);
    ChassisServer b = start("b", bReady::get, null);
    channel = channel(a, b, "");
    TestServiceGrpc.TestServiceBlockingStub stub = TestServiceGrpc.newBlockingStub(channel);
    assertThat(hits(stub, 20)).containsOnlyKeys("a", "b");

    // b's readiness fails: its health turns NOT_SERVING, its Watch stream tells the client, and
    // round_robin skips it although b still accepts calls and no registry is involved.
    bReady.set(false);
    await().atMost(Duration.ofSeconds(10)).until(() -> hits(stub, 10).keySet().equals(keys("a")));
    assertThat(hits(stub, 40)).containsOnlyKeys("a");

    bReady.set(true);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> hits(stub, 20).keySet().equals(keys("a", "b")));
  }

  @Test
  void healthCheckDisabled_keepsCallingANotServingBackend() throws Exception {
    ChassisServer a = start("a", () -> true, null);
    ChassisServer b = start("b", () -> false, null);
    await().atMost(Duration.ofSeconds(5)).until(() -> !b.isReady());
    channel = channel(a, b, "health-check-enabled = false");
    TestServiceGrpc.TestServiceBlockingStub stub = TestServiceGrpc.newBlockingStub(channel);

    // round_robin uses a backend once it is connected; b, NOT_SERVING, is never skipped.
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> hits(stub, 20).keySet().equals(keys("a", "b")));
    assertThat(hits(stub, 40)).containsOnlyKeys("a", "b");
  }

  @Test
  void outlierDetection_ejectsABackendThatFailsMostCalls() throws Exception {
    ServerInterceptor failEverything =
        new ServerInterceptor() {
          @Override
          public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
              ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
            call.close(Status.INTERNAL.withDescription("broken backend"), new Metadata());
            return new ServerCall.Listener<>() {};
          }
        };
    ChassisServer a = start("a", () -> true, null);
    ChassisServer b = start("b", () -> true, null);
    ChassisServer c = start("c", () -> true, failEverything);
    ChassisConfig config =
        TestServers.loopback(
            """
            chassis.clients.trio {
              target = "static:///127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d"
              circuit-breaker.enabled = false
              outlier-detection {
                enabled = true
                interval = 500ms
                failure-percentage-threshold = 50
                minimum-hosts = 3
                request-volume = 5
              }
            }
            """
                .formatted(a.port(), b.port(), c.port()));
    channel = Chassis.channel(config, "trio").build();
    TestServiceGrpc.TestServiceBlockingStub stub = TestServiceGrpc.newBlockingStub(channel);

    // Calls keep the detector fed; once it ran an interval with c at 100% failures, c is out.
    await()
        .atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> failures(stub, 30) == 0);
    assertThat(failures(stub, 60)).isZero();
    assertThat(hits(stub, 30)).containsOnlyKeys("a", "b");
  }

  @Test
  void serviceConfig_carriesHealthCheckAndOutlierDetection() {
    ChassisConfig config =
        ChassisConfig.of(
            """
            chassis.clients.users {
              target = "static:///127.0.0.1:1"
              health-check-service-name = "user.v1.UserService"
              outlier-detection { enabled = true, interval = 2s }
            }
            """);

    Map<String, ?> serviceConfig = Chassis.channel(config, "users").serviceConfig();

    assertThat(serviceConfig.get("healthCheckConfig"))
        .isEqualTo(Map.of("serviceName", "user.v1.UserService"));
    assertThat(serviceConfig.get("loadBalancingConfig"))
        .isEqualTo(
            List.of(
                Map.of(
                    "outlier_detection_experimental",
                    Map.of(
                        "interval",
                        "2s",
                        "baseEjectionTime",
                        "30s",
                        "maxEjectionTime",
                        "300s",
                        "maxEjectionPercent",
                        50.0,
                        "failurePercentageEjection",
                        Map.of(
                            "threshold", 85.0,
                            "enforcementPercentage", 100.0,
                            "minimumHosts", 3.0,
                            "requestVolume", 20.0),
                        "childPolicy",
                        List.of(Map.of("chassis_round_robin", Map.of()))))));
    assertThat(
            Chassis.channel(ChassisConfig.of("chassis.client.health-check-enabled = false"), "x")
                .serviceConfig())
        .doesNotContainKey("healthCheckConfig");
  }

  private ManagedChannel channel(ChassisServer a, ChassisServer b, String overrides) {
    ChassisConfig config =
        TestServers.loopback(
            "chassis.clients.pair { target = \"static:///127.0.0.1:%d,127.0.0.1:%d\"\n%s }"
                .formatted(a.port(), b.port(), overrides));
    return Chassis.channel(config, "pair").build();
  }

  private ChassisServer start(
      String name, dev.chassis.health.ReadinessCheck readiness, ServerInterceptor interceptor)
      throws Exception {
    ChassisServer.Builder builder =
        ChassisServer.newBuilder(TestServers.loopback("chassis.admin.port = -1"))
            .addService(new TestServiceImpl(name))
            .readinessCheck("flag", readiness);
    if (interceptor != null) {
      builder.intercept(interceptor);
    }
    ChassisServer server = builder.start();
    servers.add(server);
    return server;
  }

  private static Map<String, Integer> hits(
      TestServiceGrpc.TestServiceBlockingStub stub, int calls) {
    Map<String, Integer> hits = new HashMap<>();
    for (int i = 0; i < calls; i++) {
      String server = stub.withDeadlineAfter(5, TimeUnit.SECONDS).unary(ok()).getMessage();
      hits.merge(server, 1, Integer::sum);
    }
    return hits;
  }

  private static int failures(TestServiceGrpc.TestServiceBlockingStub stub, int calls) {
    int failures = 0;
    for (int i = 0; i < calls; i++) {
      try {
        stub.withDeadlineAfter(5, TimeUnit.SECONDS).unary(ok());
      } catch (StatusRuntimeException e) {
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
        failures++;
      }
    }
    return failures;
  }

  private static java.util.Set<String> keys(String... names) {
    return java.util.Set.of(names);
  }

  private static TestRequest ok() {
    return TestRequest.newBuilder().setAction("ok").build();
  }
}
