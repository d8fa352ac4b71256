package dev.chassis.testing;

import static dev.chassis.testing.GrpcAssertions.assertThatGrpc;
import static org.assertj.core.api.Assertions.assertThat;

import dev.chassis.testkit.v1.EchoRequest;
import dev.chassis.testkit.v1.EchoServiceGrpc;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChassisServerExtensionTest {
  @RegisterExtension
  static final ChassisServerExtension shared = ChassisServerExtension.forServices(EchoService::new);

  @RegisterExtension
  final ChassisServerExtension perTest =
      ChassisServerExtension.newBuilder(builder -> builder.addService(new EchoService()))
          .config("chassis.service.name = echo")
          .build();

  @Test
  @Order(1)
  void staticField_sharesOneServerAcrossTests_first() {
    assertThat(echo(shared, "a")).isEqualTo(1);
  }

  @Test
  @Order(2)
  void staticField_sharesOneServerAcrossTests_second() {
    assertThat(echo(shared, "b")).isEqualTo(2);
  }

  @Test
  @Order(3)
  void instanceField_startsAFreshServerPerTest() {
    assertThat(echo(perTest, "a")).isEqualTo(1);
    assertThat(perTest.server().config().serviceName()).isEqualTo("echo");
  }

  @Test
  @Order(4)
  void instanceField_startsAFreshServerPerTest_again() {
    assertThat(echo(perTest, "a")).isEqualTo(1);
  }

  @Test
  void server_runsProductionChainAndHealth() {
    assertThatGrpc(() -> stub(perTest).echo(EchoRequest.newBuilder().setText("crash").build()))
        .failsWith(Status.Code.INTERNAL)
        .hasMessage("internal error")
        .doesNotExpose("SQLException", "secret");
    assertThat(
            HealthGrpc.newBlockingStub(perTest.channel())
                .check(
                    HealthCheckRequest.newBuilder()
                        .setService("chassis.testkit.v1.EchoService")
                        .build())
                .getStatus())
        .isEqualTo(ServingStatus.SERVING);
  }

  @Test
  void cleanup_stopsServerAndChannel() {
    ChassisServerExtension extension = ChassisServerExtension.forServices(EchoService::new);
    extension.beforeEach(null);
    io.grpc.ManagedChannel channel = extension.channel();
    dev.chassis.server.ChassisServer server = extension.server();

    extension.afterEach(null);

    assertThat(extension.isRunning()).isFalse();
    assertThat(channel.isShutdown()).isTrue();
    assertThat(server.isDraining()).isTrue();
  }

  private static int echo(ChassisServerExtension extension, String text) {
    return stub(extension).echo(EchoRequest.newBuilder().setText(text).build()).getCalls();
  }

  private static EchoServiceGrpc.EchoServiceBlockingStub stub(ChassisServerExtension extension) {
    return EchoServiceGrpc.newBlockingStub(extension.channel())
        .withDeadlineAfter(5, TimeUnit.SECONDS);
  }
}
