package dev.chassis.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.chassis.observability.logging.LoggingInterceptors;
import dev.chassis.server.ChassisServer;
import dev.chassis.test.v1.TestRequest;
import dev.chassis.test.v1.TestResponse;
import dev.chassis.test.v1.TestServiceGrpc;
import dev.chassis.testsupport.StreamRecorder;
import dev.chassis.testsupport.TestServers;
import dev.chassis.testsupport.TestServiceImpl;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.instrumentation.logback.mdc.v1_0.OpenTelemetryAppender;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.logstash.logback.encoder.LogstashEncoder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The access log and the log context inside calls, as the JSON encoder writes them. */
class LoggingTest {
  private final ListAppender<ILoggingEvent> events = new ListAppender<>();
  private final OpenTelemetryAppender withTraceIds = new OpenTelemetryAppender();
  private final LogstashEncoder encoder = new LogstashEncoder();
  private ChassisServer server;
  private ManagedChannel channel;

  private void start(String config, String... loggers) throws Exception {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    encoder.setContext(root.getLoggerContext());
    encoder.start();
    events.start();
    withTraceIds.setContext(root.getLoggerContext());
    withTraceIds.addAppender(events);
    withTraceIds.start();
    for (String name : loggers) {
      Logger logger = (Logger) LoggerFactory.getLogger(name);
      logger.setLevel(Level.DEBUG);
      logger.setAdditive(false);
      logger.addAppender(withTraceIds);
    }
    OpenTelemetrySdk tracing =
        OpenTelemetrySdk.builder()
            .setTracerProvider(SdkTracerProvider.builder().build())
            .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
            .build();
    server =
        ChassisServer.newBuilder(TestServers.loopback(config))
            .addService(new TestServiceImpl())
            .openTelemetry(tracing)
            .start();
    Metadata secrets = new Metadata();
    secrets.put(
        Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer s3cr3t-token");
    secrets.put(Metadata.Key.of("cookie", Metadata.ASCII_STRING_MARSHALLER), "session=c00kie");
    channel =
        io.grpc.ManagedChannelBuilder.forAddress("127.0.0.1", server.port())
            .usePlaintext()
            .intercept(MetadataUtils.newAttachHeadersInterceptor(secrets))
            .build();
  }

  @AfterEach
  void stop() throws InterruptedException {
    for (String name :
        List.of(LoggingInterceptors.ACCESS_LOGGER, TestServiceImpl.class.getName())) {
      Logger logger = (Logger) LoggerFactory.getLogger(name);
      logger.detachAppender(withTraceIds);
      logger.setLevel(null);
      logger.setAdditive(true);
    }
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.close();
    withTraceIds.stop();
  }

  @Test
  void accessLog_oneJsonLinePerCall_withCodeDurationPeerAndTrace_noCredentials() throws Exception {
    start("", LoggingInterceptors.ACCESS_LOGGER);

    stub().unary(TestRequest.newBuilder().setAction("ok").setPayload("p4yl0ad").build());
    try {
      stub().unary(TestRequest.newBuilder().setAction("not-found").setPayload("x").build());
    } catch (StatusRuntimeException expected) {
      // logged below
    }

    await().atMost(Duration.ofSeconds(5)).until(() -> events.list.size() == 2);
    String ok = json(events.list.get(0));
    String notFound = json(events.list.get(1));
    assertThat(ok)
        .contains("\"logger_name\":\"chassis.access\"")
        .contains("\"grpc.method\":\"chassis.test.v1.TestService/Unary\"")
        .contains("\"grpc.code\":\"OK\"")
        .containsPattern("\"duration_ms\":\\d+")
        .containsPattern("\"peer\":\"127\\.0\\.0\\.1:\\d+\"")
        .contains("\"messages_received\":1")
        .contains("\"messages_sent\":1")
        .containsPattern("\"trace_id\":\"[0-9a-f]{32}\"")
        .containsPattern("\"span_id\":\"[0-9a-f]{16}\"");
    assertThat(notFound).contains("\"grpc.code\":\"NOT_FOUND\"");
    assertThat(ok.split("\"grpc.method\"", -1)).as("one grpc.method key").hasSize(2);
    assertThat(ok).contains("\"message\":\"chassis.test.v1.TestService/Unary OK ");
    assertThat(ok + notFound)
        .doesNotContain("s3cr3t")
        .doesNotContain("c00kie")
        .doesNotContain("p4yl0ad");
  }

  @Test
  void accessLog_sampleRateZero_skipsOkCalls_butLogsFailures() throws Exception {
    start("chassis.logging.access-log.ok-sample-rate = 0", LoggingInterceptors.ACCESS_LOGGER);

    for (int i = 0; i < 5; i++) {
      stub().unary(TestRequest.newBuilder().setAction("ok").build());
    }
    try {
      stub().unary(TestRequest.newBuilder().setAction("boom").build());
    } catch (StatusRuntimeException expected) {
      // logged below
    }

    await().atMost(Duration.ofSeconds(5)).until(() -> events.list.size() == 1);
    assertThat(json(events.list.get(0))).contains("\"grpc.code\":\"INTERNAL\"");
  }

  @Test
  void handlerLogs_inStreamingCallbacks_carryTraceIdAndMethod() throws Exception {
    start("chassis.logging.access-log.enabled = false", TestServiceImpl.class.getName());
    StreamRecorder<TestResponse> responses = new StreamRecorder<>();
    StreamObserver<TestRequest> requests =
        TestServiceGrpc.newStub(channel)
            .withDeadlineAfter(5, TimeUnit.SECONDS)
            .bidiStream(responses);

    for (int i = 0; i < 3; i++) {
      requests.onNext(TestRequest.newBuilder().setPayload("m" + i).build());
    }
    requests.onCompleted();
    assertThat(responses.done.get(5, TimeUnit.SECONDS)).isEqualTo(io.grpc.Status.Code.OK);

    assertThat(events.list).hasSize(3);
    String traceId = events.list.get(0).getMDCPropertyMap().get("trace_id");
    assertThat(traceId).matches("[0-9a-f]{32}");
    assertThat(events.list)
        .allSatisfy(
            event ->
                assertThat(event.getMDCPropertyMap())
                    .containsEntry("trace_id", traceId)
                    .containsEntry("grpc.method", "chassis.test.v1.TestService/BidiStream"));
  }

  private TestServiceGrpc.TestServiceBlockingStub stub() {
    return TestServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
  }

  private String json(ILoggingEvent event) {
    return new String(encoder.encode(event), StandardCharsets.UTF_8);
  }
}
