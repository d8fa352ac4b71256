package dev.chassis.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.chassis.Chassis;
import dev.chassis.ChassisConfig;
import dev.chassis.observability.logging.LoggingInterceptors;
import dev.chassis.server.ChassisServer;
import dev.chassis.test.v1.TestRequest;
import dev.chassis.test.v1.TestServiceGrpc;
import dev.chassis.testsupport.TestServers;
import dev.chassis.testsupport.TestServiceImpl;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.instrumentation.logback.mdc.v1_0.OpenTelemetryAppender;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * A caller sends a known traceparent to service A, whose handler calls service B through a Chassis
 * channel: one trace across both, B's server span a child of A's client span, and the log lines of
 * both services carrying the trace id.
 */
class TracingPropagationTest {
  private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String CALLER_SPAN_ID = "00f067aa0ba902b7";

  private final InMemorySpanExporter spansA = InMemorySpanExporter.create();
  private final InMemorySpanExporter spansB = InMemorySpanExporter.create();
  private final ListAppender<ILoggingEvent> accessLog = new ListAppender<>();
  private final OpenTelemetryAppender withTraceIds = new OpenTelemetryAppender();
  private ChassisServer serviceB;
  private ChassisServer serviceA;
  private ManagedChannel aToB;
  private ManagedChannel caller;
  private OpenTelemetrySdk otelA;
  private OpenTelemetrySdk otelB;

  @BeforeEach
  void start() throws Exception {
    Logger access = (Logger) LoggerFactory.getLogger(LoggingInterceptors.ACCESS_LOGGER);
    access.setLevel(ch.qos.logback.classic.Level.INFO);
    access.setAdditive(false); // keep test output quiet
    accessLog.start();
    withTraceIds.setContext(access.getLoggerContext());
    withTraceIds.addAppender(accessLog);
    withTraceIds.start();
    access.addAppender(withTraceIds);

    otelB = sdk(spansB);
    serviceB =
        ChassisServer.newBuilder(TestServers.loopback("chassis.service.name = service-b"))
            .addService(new TestServiceImpl("b"))
            .openTelemetry(otelB)
            .start();
    ChassisConfig configA =
        TestServers.loopback(
            """
            chassis.service.name = service-a
            chassis.clients.service-b.target = "static:///127.0.0.1:%d"
            """
                .formatted(serviceB.port()));
    otelA = sdk(spansA);
    aToB = Chassis.channel(configA, "service-b").openTelemetry(otelA).build();
    serviceA =
        ChassisServer.newBuilder(configA)
            .addService(new TestServiceImpl("a", aToB))
            .openTelemetry(otelA)
            .start();
    Metadata headers = new Metadata();
    headers.put(
        Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER),
        "00-" + TRACE_ID + "-" + CALLER_SPAN_ID + "-01");
    caller =
        io.grpc.ManagedChannelBuilder.forAddress("127.0.0.1", serviceA.port())
            .usePlaintext()
            .intercept(MetadataUtils.newAttachHeadersInterceptor(headers))
            .build();
  }

  @AfterEach
  void stop() throws InterruptedException {
    ((Logger) LoggerFactory.getLogger(LoggingInterceptors.ACCESS_LOGGER))
        .detachAppender(withTraceIds);
    caller.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    aToB.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    serviceA.close();
    serviceB.close();
    otelA.shutdown().join(5, TimeUnit.SECONDS);
    otelB.shutdown().join(5, TimeUnit.SECONDS);
    withTraceIds.stop();
  }

  @Test
  void traceparent_continuesThroughAToB_asOneTrace() {
    String reply =
        TestServiceGrpc.newBlockingStub(caller)
            .withDeadlineAfter(5, TimeUnit.SECONDS)
            .unary(TestRequest.newBuilder().setAction("proxy").setPayload("ok").build())
            .getMessage();

    assertThat(reply).isEqualTo("b");
    await().atMost(Duration.ofSeconds(5)).until(() -> spansA.getFinishedSpanItems().size() == 2);
    await().atMost(Duration.ofSeconds(5)).until(() -> spansB.getFinishedSpanItems().size() == 1);
    SpanData aServer = only(spansA.getFinishedSpanItems(), SpanKind.SERVER);
    SpanData aClient = only(spansA.getFinishedSpanItems(), SpanKind.CLIENT);
    SpanData bServer = only(spansB.getFinishedSpanItems(), SpanKind.SERVER);

    assertThat(List.of(aServer, aClient, bServer))
        .allSatisfy(span -> assertThat(span.getTraceId()).isEqualTo(TRACE_ID));
    assertThat(aServer.getParentSpanId()).isEqualTo(CALLER_SPAN_ID);
    assertThat(aClient.getParentSpanId()).isEqualTo(aServer.getSpanId());
    assertThat(bServer.getParentSpanId()).isEqualTo(aClient.getSpanId());
    assertThat(aServer.getName()).isEqualTo("chassis.test.v1.TestService/Unary");
    assertThat(aServer.getAttributes().asMap().toString())
        .contains("rpc.system=grpc")
        .contains("rpc.service=chassis.test.v1.TestService")
        .contains("rpc.method=Unary");
  }

  @Test
  void logLines_ofBothServices_carryTheTraceId() {
    TestServiceGrpc.newBlockingStub(caller)
        .withDeadlineAfter(5, TimeUnit.SECONDS)
        .unary(TestRequest.newBuilder().setAction("proxy").setPayload("ok").build());

    await().atMost(Duration.ofSeconds(5)).until(() -> accessLog.list.size() >= 2);
    assertThat(accessLog.list)
        .hasSize(2)
        .allSatisfy(
            event -> {
              assertThat(event.getMDCPropertyMap()).containsEntry("trace_id", TRACE_ID);
              assertThat(event.getMDCPropertyMap())
                  .containsEntry("grpc.method", "chassis.test.v1.TestService/Unary")
                  .containsKey("span_id");
            });
    assertThat(accessLog.list.get(0).getMDCPropertyMap().get("span_id"))
        .as("B's server span, then A's")
        .isNotEqualTo(accessLog.list.get(1).getMDCPropertyMap().get("span_id"));
  }

  private static SpanData only(List<SpanData> spans, SpanKind kind) {
    return spans.stream()
        .filter(s -> s.getKind() == kind)
        .reduce(
            (a, b) -> {
              throw new AssertionError("more than one " + kind + " span: " + spans);
            })
        .orElseThrow(() -> new AssertionError("no " + kind + " span in " + spans));
  }

  private static OpenTelemetrySdk sdk(InMemorySpanExporter exporter) {
    return OpenTelemetrySdk.builder()
        .setTracerProvider(
            SdkTracerProvider.builder()
                .addSpanProcessor(SimpleSpanProcessor.create(exporter))
                .build())
        .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
        .build();
  }
}
