package dev.chassis.errors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.chassis.Chassis;
import dev.chassis.ChassisConfig;
import dev.chassis.server.ChassisServer;
import dev.chassis.test.v1.TestRequest;
import dev.chassis.test.v1.TestServiceGrpc;
import dev.chassis.testsupport.TestServers;
import dev.chassis.testsupport.TestServiceImpl;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.protobuf.StatusProto;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A handler calls another service through Chassis.channel and lets the failure escape: the caller
 * must not receive the other service's status, message or details as if they were its own.
 */
class DownstreamFailureTest {
  private static ChassisServer downstream;
  private static ManagedChannel toDownstream;
  private static ChassisServer upstream;
  private static ManagedChannel toUpstream;

  @BeforeAll
  static void start() throws Exception {
    downstream =
        ChassisServer.newBuilder(TestServers.loopback("chassis.admin.port = -1"))
            .addService(new TestServiceImpl("downstream"))
            .start();
    ChassisConfig config =
        TestServers.loopback(
            """
            chassis.clients.downstream { target = "static:///127.0.0.1:%d", timeout = 500ms }
            """
                .formatted(downstream.port()));
    toDownstream = Chassis.channel(config, "downstream").build();
    upstream =
        ChassisServer.newBuilder(config)
            .addService(new TestServiceImpl("upstream", toDownstream))
            .inProcess("upstream")
            .start();
    toUpstream = InProcessChannelBuilder.forName("upstream").build();
  }

  @AfterAll
  static void stop() throws InterruptedException {
    toUpstream.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    toDownstream.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    upstream.close();
    downstream.close();
  }

  @ParameterizedTest
  @CsvSource({
    "proxy, not-found, INTERNAL, internal error",
    "proxy, invalid, INTERNAL, internal error",
    "proxy, status, INTERNAL, internal error",
    "proxy, unavailable, UNAVAILABLE, a dependency is unavailable",
    "proxy, sleep, DEADLINE_EXCEEDED, deadline exceeded",
    "proxy-on-error, not-found, INTERNAL, internal error",
    "proxy-on-error, unavailable, UNAVAILABLE, a dependency is unavailable",
  })
  void downstreamFailure_isNotForwardedAsTheCallersOwn(
      String action, String downstreamAction, Status.Code expected, String message) {
    StatusRuntimeException e =
        catchThrowableOfType(
            StatusRuntimeException.class,
            () ->
                TestServiceGrpc.newBlockingStub(toUpstream)
                    .withDeadlineAfter(10, TimeUnit.SECONDS)
                    .unary(
                        TestRequest.newBuilder()
                            .setAction(action)
                            .setPayload(downstreamAction)
                            .build()));

    assertThat(e.getStatus().getCode()).isEqualTo(expected);
    assertThat(e.getStatus().getDescription()).isEqualTo(message);
    com.google.rpc.Status details = StatusProto.fromThrowable(e);
    assertThat(details == null ? java.util.List.of() : details.getDetailsList())
        .as("no forwarded details")
        .isEmpty();
    assertThat(String.valueOf(e.getTrailers()))
        .doesNotContain("127.0.0.1")
        .doesNotContain("chassis-downstream");
  }
}
