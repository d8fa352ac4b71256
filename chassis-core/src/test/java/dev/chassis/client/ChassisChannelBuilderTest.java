package dev.chassis.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chassis.Chassis;
import dev.chassis.ChassisConfig;
import dev.chassis.ChassisConfigException;
import dev.chassis.server.ChassisServer;
import dev.chassis.test.v1.TestRequest;
import dev.chassis.test.v1.TestServiceGrpc;
import dev.chassis.testsupport.TestServers;
import dev.chassis.testsupport.TestServiceImpl;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ChassisChannelBuilderTest {
  private final List<ChassisServer> servers = new java.util.ArrayList<>();
  private ManagedChannel channel;

  @AfterEach
  void tearDown() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    servers.forEach(ChassisServer::close);
  }

  @Test
  void staticTarget_roundRobinSpreadsCallsOverEveryAddress() throws Exception {
    ChassisServer a = start(new TestServiceImpl("a"));
    ChassisServer b = start(new TestServiceImpl("b"));
    ChassisConfig config =
        TestServers.loopback(
            "chassis.clients.pair.target = \"static:///127.0.0.1:%d,127.0.0.1:%d\""
                .formatted(a.port(), b.port()));
    channel = Chassis.channel(config, "pair").build();
    TestServiceGrpc.TestServiceBlockingStub stub = TestServiceGrpc.newBlockingStub(channel);

    Map<String, Integer> hits = new HashMap<>();
    for (int i = 0; i < 40; i++) {
      String server = stub.withDeadlineAfter(5, TimeUnit.SECONDS).unary(ok()).getMessage();
      hits.merge(server, 1, Integer::sum);
    }

    assertThat(hits).containsOnlyKeys("a", "b");
    assertThat(hits.get("a")).isGreaterThanOrEqualTo(10);
    assertThat(hits.get("b")).isGreaterThanOrEqualTo(10);
  }

  @Test
  void plainHostPortAndDnsTargets_work() throws Exception {
    ChassisServer server = start(new TestServiceImpl("one"));
    ChassisConfig config = TestServers.loopback("");

    for (String target :
        List.of("127.0.0.1:" + server.port(), "dns:///127.0.0.1:" + server.port())) {
      ManagedChannel built = Chassis.channel(config, "one").target(target).build();
      try {
        assertThat(
                TestServiceGrpc.newBlockingStub(built)
                    .withDeadlineAfter(5, TimeUnit.SECONDS)
                    .unary(ok())
                    .getMessage())
            .isEqualTo("one");
      } finally {
        built.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void retryPolicy_retriesUnavailableUntilSuccess() throws Exception {
    TestServiceImpl service = new TestServiceImpl();
    ChassisServer server = start(service);
    ChassisConfig config =
        TestServers.loopback(
            """
            chassis.clients.flaky {
              target = "static:///127.0.0.1:%d"
              methods { "chassis.test.v1.TestService/Unary" { retry { max-attempts = 3, initial-backoff = 10ms } } }
            }
            """
                .formatted(server.port()));
    channel = Chassis.channel(config, "flaky").build();

    String reply =
        TestServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(5, TimeUnit.SECONDS)
            .unary(
                TestRequest.newBuilder()
                    .setAction("fail-then-ok")
                    .setCount(2)
                    .setPayload("r1")
                    .build())
            .getMessage();

    assertThat(reply).isEqualTo("attempt 3");
    assertThat(service.attempts("r1")).isEqualTo(3);
  }

  @Test
  void noRetryPolicy_failsOnFirstUnavailable() throws Exception {
    TestServiceImpl service = new TestServiceImpl();
    ChassisServer server = start(service);
    ChassisConfig config =
        TestServers.loopback(
            "chassis.clients.flaky.target = \"static:///127.0.0.1:%d\"".formatted(server.port()));
    channel = Chassis.channel(config, "flaky").build();

    assertThatThrownBy(
            () ->
                TestServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(5, TimeUnit.SECONDS)
                    .unary(
                        TestRequest.newBuilder()
                            .setAction("fail-then-ok")
                            .setCount(1)
                            .setPayload("r2")
                            .build()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    assertThat(service.attempts("r2")).isEqualTo(1);
  }

  @Test
  void defaultTimeout_becomesTheCallDeadline() throws Exception {
    ChassisServer server = start(new TestServiceImpl());
    ChassisConfig config =
        TestServers.loopback(
            """
            chassis.clients.slow {
              target = "static:///127.0.0.1:%d"
              timeout = 200ms
              methods { "chassis.test.v1.TestService/ServerStream" { timeout = 30s } }
            }
            """
                .formatted(server.port()));
    channel = Chassis.channel(config, "slow").build();
    TestServiceGrpc.TestServiceBlockingStub stub = TestServiceGrpc.newBlockingStub(channel);

    assertThatThrownBy(
            () -> stub.unary(TestRequest.newBuilder().setAction("sleep").setDelayMs(2000).build()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
    assertThat(stub.serverStream(TestRequest.newBuilder().setCount(3).setDelayMs(100).build()))
        .toIterable()
        .hasSize(3);
  }

  @Test
  void serviceConfig_hasPolicyDefaultsAndMethodEntries() {
    ChassisConfig config =
        ChassisConfig.of(
            """
            chassis.client.timeout = 1500ms
            chassis.clients.users {
              target = "static:///127.0.0.1:1"
              load-balancing-policy = pick_first
              methods {
                "user.v1.UserService" { timeout = 3s }
                "user.v1.UserService/GetUser" { wait-for-ready = true, retry { max-attempts = 4 } }
              }
            }
            """);

    Map<String, ?> serviceConfig = Chassis.channel(config, "users").serviceConfig();

    assertThat(serviceConfig.get("loadBalancingConfig"))
        .isEqualTo(List.of(Map.of("pick_first", Map.of())));
    // Timeouts are applied by the default-deadline interceptor, not the service config.
    assertThat(serviceConfig.get("retryThrottling"))
        .isEqualTo(Map.of("maxTokens", 10.0, "tokenRatio", 0.1));
    assertThat(serviceConfig.get("methodConfig"))
        .isEqualTo(
            List.of(
                Map.of("name", List.of(Map.of("service", "user.v1.UserService"))),
                Map.of(
                    "name", List.of(Map.of("service", "user.v1.UserService", "method", "GetUser")),
                    "waitForReady", true,
                    "retryPolicy",
                        Map.of(
                            "maxAttempts",
                            4.0,
                            "initialBackoff",
                            "0.1s",
                            "maxBackoff",
                            "1s",
                            "backoffMultiplier",
                            2.0,
                            "retryableStatusCodes",
                            List.of("UNAVAILABLE")))));
  }

  @Test
  void methodHedging_winsOverItsServicesRetry() {
    ChassisConfig config =
        ChassisConfig.of(
            """
            chassis.clients.x {
              target = "static:///127.0.0.1:1"
              methods {
                "a.S" { retry {} }
                "a.S/Read" { hedging { max-attempts = 2, hedging-delay = 10ms } }
              }
            }
            """);

    String methodConfig =
        Chassis.channel(config, "x").serviceConfig().get("methodConfig").toString();

    assertThat(methodConfig)
        .contains("{name=[{service=a.S, method=Read}], hedgingPolicy=")
        .doesNotContain("method=Read}], retryPolicy");
  }

  @Test
  void timeouts_resolveMethodThenServiceThenDefault() {
    ChassisConfig config =
        ChassisConfig.of(
            """
            chassis.client.timeout = 1500ms
            chassis.clients.users.methods {
              "user.v1.UserService" { timeout = 3s }
              "user.v1.UserService/ListUsers" { timeout = 60s }
            }
            """);

    ClientSettings settings = ClientSettings.forService(config, "users");

    assertThat(settings.timeoutFor("user.v1.UserService/ListUsers"))
        .isEqualTo(Duration.ofSeconds(60));
    assertThat(settings.timeoutFor("user.v1.UserService/GetUser")).isEqualTo(Duration.ofSeconds(3));
    assertThat(settings.timeoutFor("other.v1.Other/Get")).isEqualTo(Duration.ofMillis(1500));
  }

  @Test
  void missingTarget_failsNamingTheKey() {
    ChassisConfig config = ChassisConfig.of("");

    assertThatThrownBy(() -> Chassis.channel(config, "inventory").build())
        .isInstanceOf(ChassisConfigException.class)
        .hasMessageContaining("chassis.clients.inventory.target: missing");
  }

  @Test
  void unquotedMethodKey_isRejectedInsteadOfIgnored() {
    ChassisConfig config =
        ChassisConfig.of("chassis.clients.x.methods { user.v1.UserService { timeout = 1s } }");

    assertThatThrownBy(() -> Chassis.channel(config, "x"))
        .isInstanceOf(ChassisConfigException.class)
        .hasMessageContaining("chassis.clients.x.methods.user.v1")
        .hasMessageContaining("quote the entry's key");
  }

  @Test
  void invalidRetryCode_failsNamingTheKey() {
    ChassisConfig config =
        ChassisConfig.of(
            "chassis.clients.x.methods { \"a.B/C\" { retry { retryable-status-codes = [NOPE] } } }");

    assertThatThrownBy(() -> Chassis.channel(config, "x"))
        .isInstanceOf(ChassisConfigException.class)
        .hasMessageContaining("chassis.clients.x.methods.\"a.B/C\".retry.retryable-status-codes")
        .hasMessageContaining("NOPE");
  }

  private ChassisServer start(TestServiceImpl service) throws Exception {
    ChassisServer server =
        ChassisServer.newBuilder(TestServers.loopback("chassis.admin.port = -1"))
            .addService(service)
            .start();
    servers.add(server);
    return server;
  }

  private static TestRequest ok() {
    return TestRequest.newBuilder().setAction("ok").build();
  }
}
