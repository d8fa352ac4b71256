package dev.chassis.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chassis.testkit.v1.EchoRequest;
import dev.chassis.testkit.v1.EchoResponse;
import dev.chassis.testkit.v1.EchoServiceGrpc;
import io.grpc.Status;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class RecordingStreamObserverTest {
  @RegisterExtension
  static final ChassisServerExtension server = ChassisServerExtension.forServices(EchoService::new);

  @Test
  void create_recordsMessagesAndOk() throws Exception {
    RecordingStreamObserver<EchoResponse> responses = RecordingStreamObserver.create();

    echo("hello", responses);

    assertThat(responses.awaitCompletion(Duration.ofSeconds(5)).isOk()).isTrue();
    assertThat(responses.values()).extracting(EchoResponse::getText).containsExactly("hello");
    assertThat(responses.isDone()).isTrue();
  }

  @Test
  void failedCall_completesWithItsStatus() throws Exception {
    RecordingStreamObserver<EchoResponse> responses = RecordingStreamObserver.create();

    echo("missing", responses);

    assertThat(responses.awaitCompletion(Duration.ofSeconds(5)).getCode())
        .isEqualTo(Status.Code.NOT_FOUND);
    assertThat(responses.values()).isEmpty();
  }

  @Test
  void manualFlowControl_deliversOnlyWhatWasRequested() throws Exception {
    RecordingStreamObserver<EchoResponse> responses =
        RecordingStreamObserver.withManualFlowControl(0);
    echo("later", responses);

    responses.request(1);

    assertThat(responses.awaitCompletion(Duration.ofSeconds(5)).isOk()).isTrue();
    assertThat(responses.values()).hasSize(1);
  }

  @Test
  void request_withoutManualFlowControl_isRejected() {
    RecordingStreamObserver<EchoResponse> responses = RecordingStreamObserver.create();
    echo("x", responses);

    assertThatThrownBy(() -> responses.request(1)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> RecordingStreamObserver.withManualFlowControl(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("initialRequest: -1");
  }

  @Test
  void awaitCompletion_callNotEnded_failsWithWhatArrived() {
    RecordingStreamObserver<EchoResponse> responses =
        RecordingStreamObserver.withManualFlowControl(0);
    echo("held", responses);

    assertThatThrownBy(() -> responses.awaitCompletion(Duration.ofMillis(50)))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("did not end");
  }

  private static void echo(String text, RecordingStreamObserver<EchoResponse> responses) {
    EchoServiceGrpc.newStub(server.channel())
        .echo(EchoRequest.newBuilder().setText(text).build(), responses);
  }
}
