package dev.chassis.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chassis.Chassis;
import dev.chassis.ChassisConfig;
import dev.chassis.server.ChassisServer;
import dev.chassis.test.v1.TestRequest;
import dev.chassis.test.v1.TestServiceGrpc;
import dev.chassis.testsupport.TestServers;
import dev.chassis.testsupport.TestServiceImpl;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The first call on a new channel often runs inside a server handler, whose {@link Context} is
 * cancelled when that handler's call ends. The channel's own streams, such as the client-side
 * health check its load balancer opens, must not inherit that context, or they die with the first
 * call and the channel then fails every later call with UNAVAILABLE.
 */
class ChannelContextIsolationTest {
  private static ChassisServer server;

  @BeforeAll
  static void start() throws Exception {
    server =
        ChassisServer.newBuilder(TestServers.loopback("chassis.admin.port = -1"))
            .addService(new TestServiceImpl())
            .start();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void aFirstCallInsideACancelledContext_leavesTheChannelHealthy() throws Exception {
    ChassisConfig config =
        TestServers.loopback(
            "chassis.clients.test { target = \"static:///127.0.0.1:%d\" }"
                .formatted(server.port()));
    // The race this guards against depends on thread timing; each round is a fresh channel.
    for (int round = 0; round < 25; round++) {
      ManagedChannel channel = Chassis.channel(config, "test").build();
      try {
        Context.CancellableContext handlerContext = Context.current().withCancellation();
        String first = handlerContext.call(() -> call(channel));
        handlerContext.cancel(null); // the handler's call ended

        assertThat(first).isEqualTo("test");
        for (int i = 0; i < 3; i++) {
          assertThat(call(channel))
              .as("round %d, call %d after the context ended", round, i)
              .isEqualTo("test");
        }
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  private static String call(ManagedChannel channel) {
    return TestServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(5, TimeUnit.SECONDS)
        .unary(TestRequest.newBuilder().setAction("ok").build())
        .getMessage();
  }
}
