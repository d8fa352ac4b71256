package dev.chassis.testing;

import static dev.chassis.testing.GrpcAssertions.assertThatGrpc;
import static dev.chassis.testing.GrpcAssertions.assertThatRpcStatus;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chassis.errors.ErrorStatuses;
import dev.chassis.errors.InvalidArgumentException;
import dev.chassis.testkit.v1.EchoRequest;
import dev.chassis.testkit.v1.EchoServiceGrpc;
import io.grpc.Status;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class GrpcAssertionsTest {
  @RegisterExtension
  static final ChassisServerExtension server = ChassisServerExtension.forServices(EchoService::new);

  @Test
  void failsWith_matchingCodeAndDetails_passes() {
    assertThatGrpc(() -> echo("missing"))
        .failsWith(Status.Code.NOT_FOUND)
        .hasMessage("echo missing not found")
        .hasResourceInfo("echo", "missing");
    assertThatGrpc(() -> echo("invalid"))
        .failsWith(Status.Code.INVALID_ARGUMENT)
        .hasBadRequestViolation("text")
        .hasBadRequestViolation("text", "must not be");
    assertThatGrpc(() -> echo("busy"))
        .failsWith(Status.Code.RESOURCE_EXHAUSTED)
        .hasMessageContaining("slow")
        .hasErrorInfoReason("RATE_LIMITED")
        .hasRetryDelay(Duration.ofMillis(1500));
    assertThatGrpc(() -> echo("fine")).succeeds();
  }

  @Test
  void failsWith_otherCode_failsNamingBothCodes() {
    assertThatThrownBy(() -> assertThatGrpc(() -> echo("missing")).failsWith(Status.Code.INTERNAL))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("expected status INTERNAL but was NOT_FOUND");
  }

  @Test
  void failsWith_successfulCall_fails() {
    assertThatThrownBy(() -> assertThatGrpc(() -> echo("fine")).failsWith(Status.Code.NOT_FOUND))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("but it succeeded");
  }

  @Test
  void failsWith_nonGrpcException_fails() {
    assertThatThrownBy(
            () ->
                assertThatGrpc(
                        () -> {
                          throw new IllegalStateException("plain");
                        })
                    .failsWith(Status.Code.INTERNAL))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("expected a gRPC status exception");
  }

  @Test
  void hasBadRequestViolation_otherField_failsListingViolations() {
    assertThatThrownBy(
            () ->
                assertThatGrpc(() -> echo("invalid"))
                    .failsWith(Status.Code.INVALID_ARGUMENT)
                    .hasBadRequestViolation("email"))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("field <email>")
        .hasMessageContaining("text: must not be 'invalid'");
  }

  @Test
  void succeeds_failingCall_fails() {
    assertThatThrownBy(() -> assertThatGrpc(() -> echo("missing")).succeeds())
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("NOT_FOUND");
  }

  @Test
  void doesNotExpose_leakedText_fails() {
    assertThatThrownBy(
            () ->
                assertThatRpcStatus(
                        com.google.rpc.Status.newBuilder()
                            .setCode(13)
                            .setMessage("ORA-00942 at x")
                            .build())
                    .doesNotExpose("ORA-"))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("ORA-");
  }

  @Test
  void assertThatRpcStatus_worksOnPerItemStatuses() {
    com.google.rpc.Status status =
        ErrorStatuses.toRpcStatus(InvalidArgumentException.forField("email", "is malformed"));

    assertThatRpcStatus(status)
        .hasCode(Status.Code.INVALID_ARGUMENT)
        .hasBadRequestViolation("email", "malformed");
  }

  private static void echo(String text) {
    EchoServiceGrpc.newBlockingStub(server.channel())
        .withDeadlineAfter(5, TimeUnit.SECONDS)
        .echo(EchoRequest.newBuilder().setText(text).build());
  }
}
