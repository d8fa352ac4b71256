package dev.chassis.errors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.google.rpc.BadRequest;
import com.google.rpc.ResourceInfo;
import com.google.rpc.RetryInfo;
import dev.chassis.ChassisConfig;
import dev.chassis.server.ChassisServer;
import dev.chassis.test.v1.TestRequest;
import dev.chassis.test.v1.TestResponse;
import dev.chassis.test.v1.TestServiceGrpc;
import dev.chassis.testsupport.StreamRecorder;
import dev.chassis.testsupport.TestServiceImpl;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class ExceptionMappingTest {
  private static ChassisServer server;
  private static ManagedChannel channel;
  private static final ListAppender<ILoggingEvent> logs = new ListAppender<>();

  @BeforeAll
  static void start() throws Exception {
    Logger logger = (Logger) LoggerFactory.getLogger(ExceptionMappingServerInterceptor.class);
    logs.start();
    logger.addAppender(logs);
    ChassisConfig config =
        ChassisConfig.of(
            "chassis.shutdown { drain-delay = 0s, grace = 2s, handle-signals = false }");
    server =
        ChassisServer.newBuilder(config)
            .addService(new TestServiceImpl())
            .inProcess("exception-mapping")
            .start();
    channel = InProcessChannelBuilder.forName("exception-mapping").build();
  }

  @AfterAll
  static void stop() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.close();
  }

  @BeforeEach
  void clearLogs() {
    logs.list.clear();
  }

  @Test
  void notFound_returnsNotFoundWithResourceInfo() throws Exception {
    StatusRuntimeException e = call("not-found", "42");

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(e.getStatus().getDescription()).isEqualTo("thing 42 not found");
    ResourceInfo info = detail(e, ResourceInfo.class);
    assertThat(info.getResourceType()).isEqualTo("thing");
    assertThat(info.getResourceName()).isEqualTo("42");
    assertThat(logs.list).isEmpty();
  }

  @Test
  void invalidArgument_returnsEveryFieldViolation() throws Exception {
    StatusRuntimeException e = call("invalid", "");

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(detail(e, BadRequest.class).getFieldViolationsList())
        .extracting(BadRequest.FieldViolation::getField, BadRequest.FieldViolation::getDescription)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("name", "must not be empty"),
            org.assertj.core.groups.Tuple.tuple("email", "must be a valid email address"));
  }

  @Test
  void unavailableWithCause_returnsRetryInfoAndLogsCauseOnly() throws Exception {
    StatusRuntimeException e = call("unavailable", "");

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(e.getStatus().getDescription()).isEqualTo("database is down");
    assertThat(detail(e, RetryInfo.class).getRetryDelay().getSeconds()).isEqualTo(2);
    assertNoLeak(e);
    assertThat(logs.list)
        .singleElement()
        .satisfies(
            event -> {
              assertThat(event.getThrowableProxy().getMessage()).isEqualTo(TestServiceImpl.SECRET);
              assertThat(event.getMDCPropertyMap())
                  .containsEntry("grpc.method", "chassis.test.v1.TestService/Unary");
            });
  }

  @Test
  void onErrorWithCause_keepsStatusAndLogsCauseOnly() throws Exception {
    StatusRuntimeException e = call("on-error-unavailable-cause", "");

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(e.getStatus().getDescription()).isEqualTo("database is down");
    assertNoLeak(e);
    assertThat(logs.list)
        .singleElement()
        .satisfies(
            event ->
                assertThat(event.getThrowableProxy().getMessage())
                    .isEqualTo(TestServiceImpl.SECRET));
  }

  @Test
  void unexpectedException_returnsGenericInternalAndLogsIt() throws Exception {
    StatusRuntimeException e = call("boom", "");

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
    assertThat(e.getStatus().getDescription()).isEqualTo(ErrorStatuses.INTERNAL_MESSAGE);
    assertNoLeak(e);
    assertThat(logs.list)
        .singleElement()
        .satisfies(
            event -> {
              assertThat(event.getLevel().toString()).isEqualTo("ERROR");
              assertThat(event.getThrowableProxy().getClassName())
                  .isEqualTo("java.lang.IllegalStateException");
            });
  }

  @Test
  void onErrorWithUnexpectedException_returnsGenericInternal() throws Exception {
    StatusRuntimeException e = call("on-error-boom", "");

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
    assertNoLeak(e);
  }

  @Test
  void onErrorWithServiceException_keepsItsStatus() throws Exception {
    StatusRuntimeException e = call("on-error-not-found", "");

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(detail(e, ResourceInfo.class).getResourceName()).isEqualTo("7");
  }

  @Test
  void statusRuntimeException_passesThrough() throws Exception {
    StatusRuntimeException e = call("status", "");

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(e.getStatus().getDescription()).isEqualTo("nope");
  }

  @Test
  void exceptionInBidiStream_closesStreamWithInternal() throws Exception {
    StreamRecorder<TestResponse> responses = new StreamRecorder<>();
    StreamObserver<TestRequest> requests =
        TestServiceGrpc.newStub(channel)
            .withDeadlineAfter(5, TimeUnit.SECONDS)
            .bidiStream(responses);

    requests.onNext(TestRequest.newBuilder().setAction("echo").setPayload("a").build());
    requests.onNext(TestRequest.newBuilder().setAction("boom").build());

    assertThat(responses.done.get(5, TimeUnit.SECONDS)).isEqualTo(Status.Code.INTERNAL);
    assertThat(responses.error).isInstanceOf(StatusRuntimeException.class);
    assertNoLeak((StatusRuntimeException) responses.error);
  }

  @Test
  void toRpcStatus_unexpectedException_isGenericInternal() {
    com.google.rpc.Status status = ErrorStatuses.toRpcStatus(new RuntimeException("secret"));

    assertThat(status.getCode()).isEqualTo(Status.Code.INTERNAL.value());
    assertThat(status.getMessage()).isEqualTo(ErrorStatuses.INTERNAL_MESSAGE);
    assertThat(status.getDetailsList()).isEmpty();
  }

  @Test
  void toRpcStatus_invalidArgument_keepsBadRequest() throws Exception {
    com.google.rpc.Status status =
        ErrorStatuses.toRpcStatus(InvalidArgumentException.forField("email", "is taken"));

    assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
    assertThat(status.getDetails(0).unpack(BadRequest.class).getFieldViolations(0).getField())
        .isEqualTo("email");
  }

  private static StatusRuntimeException call(String action, String payload) {
    return catchThrowableOfType(
        StatusRuntimeException.class,
        () ->
            TestServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .unary(TestRequest.newBuilder().setAction(action).setPayload(payload).build()));
  }

  private static <T extends com.google.protobuf.Message> T detail(
      StatusRuntimeException e, Class<T> type) throws Exception {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    assertThat(status).as("grpc-status-details-bin").isNotNull();
    for (com.google.protobuf.Any any : status.getDetailsList()) {
      if (any.is(type)) {
        return any.unpack(type);
      }
    }
    throw new AssertionError("no " + type.getSimpleName() + " in " + status);
  }

  private static void assertNoLeak(StatusRuntimeException e) {
    String everything = e.getStatus() + " " + e.getTrailers();
    assertThat(everything)
        .doesNotContain("SELECT")
        .doesNotContain("com.acme")
        .doesNotContain("IllegalStateException")
        .doesNotContain("at dev.chassis");
  }
}
