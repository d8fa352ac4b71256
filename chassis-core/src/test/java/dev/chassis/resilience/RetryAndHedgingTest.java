package dev.chassis.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chassis.Chassis;
import dev.chassis.ChassisConfig;
import dev.chassis.server.ChassisServer;
import dev.chassis.test.v1.TestRequest;
import dev.chassis.test.v1.TestServiceGrpc;
import dev.chassis.testsupport.CountingInterceptor;
import dev.chassis.testsupport.TestServers;
import dev.chassis.testsupport.TestServiceImpl;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** grpc's own retries, retry budget and hedging, configured through Chassis.channel. */
class RetryAndHedgingTest {
  private static final String UNARY = "chassis.test.v1.TestService/Unary";
  private final List<ChassisServer> servers = new ArrayList<>();
  private ManagedChannel channel;

  @AfterEach
  void stop() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    servers.forEach(ChassisServer::close);
  }

  @Test
  void unavailableFromOneOfTwoBackends_isRetriedInvisiblyToTheCaller() throws Exception {
    CountingInterceptor sick = CountingInterceptor.failingWith(Status.UNAVAILABLE);
    ChassisServer a = start("a", sick);
    ChassisServer b = start("b", CountingInterceptor.counting());
    channel =
        channel(
            """
            target = "static:///127.0.0.1:%d,127.0.0.1:%d"
            # Half of all attempts fail here, which the default budget (retryBudget test) rightly
            # treats as an outage and stops retrying; this test is about the retry itself.
            retry-throttling.enabled = false
            methods { "%s" { retry { max-attempts = 3, initial-backoff = 10ms } } }
            """
                .formatted(a.port(), b.port(), UNARY));

    // round_robin uses READY backends only: wait until both are connected.
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(10))
        .until(() -> code("ok") == Status.Code.OK && sick.calls() > 0);
    int sickBefore = sick.calls();

    for (int i = 0; i < 20; i++) {
      assertThat(call("ok")).isEqualTo("b");
    }
    assertThat(sick.calls() - sickBefore)
        .as("attempts that went to the sick backend and were retried")
        .isPositive();
  }

  @Test
  void retryBudget_stopsRetriesOnceSpent() throws Exception {
    CountingInterceptor sick = CountingInterceptor.failingWith(Status.UNAVAILABLE);
    ChassisServer only = start("only", sick);
    channel =
        channel(
            """
            target = "static:///127.0.0.1:%d"
            circuit-breaker.enabled = false
            retry-throttling { max-tokens = 4, token-ratio = 0.1 }
            methods { "%s" { retry { max-attempts = 5, initial-backoff = 10ms } } }
            """
                .formatted(only.port(), UNARY));

    for (int i = 0; i < 10; i++) {
      assertThat(code("ok")).isEqualTo(Status.Code.UNAVAILABLE);
    }

    // 4 tokens, retries only while tokens > 2: the first call gets one retry, then none do.
    // Without the budget: 10 calls x 5 attempts = 50.
    assertThat(sick.calls()).isEqualTo(11);
  }

  @Test
  void hedging_takesTheFirstAnswer_whenOneBackendIsSlow() throws Exception {
    ChassisServer slow = start("slow", delaying(3_000));
    ChassisServer fast = start("fast", CountingInterceptor.counting());
    channel =
        channel(
            """
            target = "static:///127.0.0.1:%d,127.0.0.1:%d"
            methods { "%s" { hedging { max-attempts = 2, hedging-delay = 50ms } } }
            """
                .formatted(slow.port(), fast.port(), UNARY));

    // Both backends connected first: a hedge sent while "fast" is still connecting goes to "slow".
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(15))
        .until(() -> call("ok").equals("fast"));

    for (int i = 0; i < 4; i++) {
      // Without hedging every other call would wait 3 s for "slow" and miss this deadline.
      assertThat(
              TestServiceGrpc.newBlockingStub(channel)
                  .withDeadlineAfter(1500, TimeUnit.MILLISECONDS)
                  .unary(TestRequest.newBuilder().setAction("ok").build())
                  .getMessage())
          .isEqualTo("fast");
    }
  }

  @Test
  void serviceConfig_carriesBudgetAndHedgingPolicy() {
    ChassisConfig config =
        ChassisConfig.of(
            """
            chassis.clients.x {
              target = "static:///127.0.0.1:1"
              methods { "a.B/Get" { hedging { max-attempts = 3, hedging-delay = 20ms, non-fatal-status-codes = [UNAVAILABLE] } } }
            }
            """);

    Map<String, ?> serviceConfig = Chassis.channel(config, "x").serviceConfig();

    assertThat(serviceConfig.get("retryThrottling"))
        .isEqualTo(Map.of("maxTokens", 10.0, "tokenRatio", 0.1));
    assertThat(serviceConfig.get("methodConfig").toString())
        .contains(
            "hedgingPolicy={maxAttempts=3.0, hedgingDelay=0.02s, nonFatalStatusCodes=[UNAVAILABLE]}");
  }

  private ChassisServer start(String name, ServerInterceptor interceptor) throws Exception {
    ChassisServer server =
        ChassisServer.newBuilder(TestServers.loopback("chassis.admin.port = -1"))
            .addService(new TestServiceImpl(name))
            .intercept(interceptor)
            .start();
    servers.add(server);
    return server;
  }

  private ManagedChannel channel(String clientConfig) {
    ChassisConfig config =
        TestServers.loopback("chassis.clients.backends {\n" + clientConfig + "\n}");
    return Chassis.channel(config, "backends").build();
  }

  /** A backend that is slow to start every call (blocking its handler thread, for the test). */
  private static ServerInterceptor delaying(long millis) {
    return new ServerInterceptor() {
      @Override
      public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
          ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
        try {
          Thread.sleep(millis); // simulated slowness of this backend, not test synchronisation
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return next.startCall(call, headers);
      }
    };
  }

  private String call(String action) {
    return TestServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(5, TimeUnit.SECONDS)
        .unary(TestRequest.newBuilder().setAction(action).build())
        .getMessage();
  }

  private Status.Code code(String action) {
    try {
      call(action);
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }
}
