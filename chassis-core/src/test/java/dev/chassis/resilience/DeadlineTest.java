package dev.chassis.resilience;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.chassis.Chassis;
import dev.chassis.ChassisConfig;
import dev.chassis.server.ChassisServer;
import dev.chassis.test.v1.TestRequest;
import dev.chassis.test.v1.TestServiceGrpc;
import dev.chassis.testsupport.CountingInterceptor;
import dev.chassis.testsupport.TestServers;
import dev.chassis.testsupport.TestServiceImpl;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Default client deadlines, server deadline bounds, and a deadline across two services. */
class DeadlineTest {
  private final List<ChassisServer> servers = new ArrayList<>();
  private final List<ManagedChannel> channels = new ArrayList<>();

  @AfterEach
  void stop() throws InterruptedException {
    for (ManagedChannel channel : channels) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    servers.forEach(ChassisServer::close);
  }

  @Test
  void defaultDeadline_appliesOnlyWhenTheCallerSetNone() throws Exception {
    ChassisServer server = start("", new TestServiceImpl());
    ManagedChannel channel = channel(server, "timeout = 200ms");
    TestRequest slow = TestRequest.newBuilder().setAction("sleep").setDelayMs(600).build();

    StatusRuntimeException defaulted =
        catchThrowableOfType(
            StatusRuntimeException.class,
            () -> TestServiceGrpc.newBlockingStub(channel).unary(slow));
    String withOwnDeadline =
        TestServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(5, TimeUnit.SECONDS)
            .unary(slow)
            .getMessage();

    assertThat(defaulted.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    assertThat(withOwnDeadline)
        .as("a longer deadline of the caller's own is not cut")
        .isEqualTo("test");
  }

  @Test
  void server_capsHugeOrMissingDeadlines() throws Exception {
    ChassisServer server = start("chassis.limits.max-deadline = 2s", new TestServiceImpl());
    ManagedChannel channel = channel(server, "timeout = 0");
    TestRequest report = TestRequest.newBuilder().setAction("deadline").build();

    String huge =
        TestServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(1, TimeUnit.HOURS)
            .unary(report)
            .getMessage();
    String none = TestServiceGrpc.newBlockingStub(channel).unary(report).getMessage();
    String small =
        TestServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(1, TimeUnit.SECONDS)
            .unary(report)
            .getMessage();

    assertThat(Long.parseLong(huge)).isBetween(1L, 2000L);
    assertThat(Long.parseLong(none)).isBetween(1L, 2000L);
    assertThat(Long.parseLong(small)).isBetween(1L, 1000L);
  }

  @Test
  void deadlineOfTheFirstCaller_boundsTheWholeChain() throws Exception {
    ChassisServer b = start("", new TestServiceImpl("b"));
    // A's channel to B has a 10 s default; the caller's 800 ms must win all the same.
    ManagedChannel aToB = channel(b, "timeout = 10s");
    ChassisServer a = start("", new TestServiceImpl("a", aToB));
    ManagedChannel caller = channel(a, "timeout = 0");

    String remainingAtB =
        TestServiceGrpc.newBlockingStub(caller)
            .withDeadlineAfter(800, TimeUnit.MILLISECONDS)
            .unary(TestRequest.newBuilder().setAction("proxy").setPayload("deadline").build())
            .getMessage();

    assertThat(Long.parseLong(remainingAtB)).isBetween(1L, 800L);
  }

  @Test
  void channelDefault_alsoBoundsCallsMadeInsideAHandler() throws Exception {
    ChassisServer b = start("", new TestServiceImpl("b"));
    ManagedChannel aToB = channel(b, "timeout = 300ms");
    ChassisServer a = start("", new TestServiceImpl("a", aToB));
    ManagedChannel caller = channel(a, "timeout = 0");

    String remainingAtB =
        TestServiceGrpc.newBlockingStub(caller)
            .withDeadlineAfter(5, TimeUnit.SECONDS)
            .unary(
                TestRequest.newBuilder().setAction("proxy-default").setPayload("deadline").build())
            .getMessage();

    assertThat(Long.parseLong(remainingAtB))
        .as("A's channel default, not the 5 s budget")
        .isBetween(1L, 300L);
  }

  @Test
  void callWhoseDeadlinePassedWhileQueued_isRejectedWithoutRunningTheHandler() throws Exception {
    CountingInterceptor handlerReached = CountingInterceptor.counting();
    ChassisServer server =
        start("chassis.grpc.executor-threads = 1", new TestServiceImpl(), handlerReached);
    ManagedChannel channel = channel(server, "timeout = 0");
    CompletableFuture<String> busy =
        CompletableFuture.supplyAsync(
            () ->
                TestServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(5, TimeUnit.SECONDS)
                    .unary(TestRequest.newBuilder().setAction("sleep").setDelayMs(1000).build())
                    .getMessage());
    org.awaitility.Awaitility.await().until(() -> handlerReached.calls() == 1);

    StatusRuntimeException late =
        catchThrowableOfType(
            StatusRuntimeException.class,
            () ->
                TestServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(200, TimeUnit.MILLISECONDS)
                    .unary(TestRequest.newBuilder().setAction("ok").build()));

    assertThat(late.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    assertThat(busy.get(5, TimeUnit.SECONDS)).isEqualTo("test");
    assertThat(handlerReached.calls()).as("the late call never reached the handler").isEqualTo(1);
  }

  private ChassisServer start(
      String config, TestServiceImpl service, io.grpc.ServerInterceptor... interceptors)
      throws Exception {
    ChassisServer.Builder builder =
        ChassisServer.newBuilder(TestServers.loopback("chassis.admin.port = -1\n" + config))
            .addService(service);
    for (io.grpc.ServerInterceptor interceptor : interceptors) {
      builder.intercept(interceptor);
    }
    ChassisServer server = builder.start();
    servers.add(server);
    return server;
  }

  private ManagedChannel channel(ChassisServer to, String clientConfig) {
    ChassisConfig config =
        TestServers.loopback(
            "chassis.clients.to { target = \"static:///127.0.0.1:%d\"\n%s\n}"
                .formatted(to.port(), clientConfig));
    ManagedChannel channel = Chassis.channel(config, "to").build();
    channels.add(channel);
    return channel;
  }
}
