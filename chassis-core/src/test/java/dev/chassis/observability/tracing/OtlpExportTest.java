package dev.chassis.observability.tracing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.chassis.server.ChassisServer;
import dev.chassis.test.v1.TestRequest;
import dev.chassis.test.v1.TestServiceGrpc;
import dev.chassis.testsupport.TestServers;
import dev.chassis.testsupport.TestServiceImpl;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Spans leave the process over OTLP/gRPC, configured the way operators configure it (otel.*
 * properties, the same keys as the OTEL_* variables), and arrive at a receiver built from the
 * official opentelemetry-proto definitions.
 */
class OtlpExportTest {
  private final List<ExportTraceServiceRequest> received = new CopyOnWriteArrayList<>();
  private Server receiver;
  private OpenTelemetrySdk sdk;
  private ChassisServer server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    receiver =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .addService(
                new TraceServiceGrpc.TraceServiceImplBase() {
                  @Override
                  public void export(
                      ExportTraceServiceRequest request,
                      StreamObserver<ExportTraceServiceResponse> response) {
                    received.add(request);
                    response.onNext(ExportTraceServiceResponse.getDefaultInstance());
                    response.onCompleted();
                  }
                })
            .build()
            .start();
    Properties props = new Properties();
    props.setProperty("otel.exporter.otlp.endpoint", "http://127.0.0.1:" + receiver.getPort());
    props.setProperty("otel.exporter.otlp.protocol", "grpc");
    props.setProperty("otel.bsp.schedule.delay", "50");
    sdk = ChassisTracing.autoconfigure("otlp-test", Map.of(), props);
    server =
        ChassisServer.newBuilder(TestServers.loopback("chassis.service.name = otlp-test"))
            .addService(new TestServiceImpl())
            .openTelemetry(sdk)
            .start();
    channel = TestServers.channel(server.port());
  }

  @AfterEach
  void stop() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.close();
    sdk.shutdown().join(5, TimeUnit.SECONDS);
    receiver.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  @Test
  void serverSpan_isExportedOverOtlpGrpc_withRpcAttributesAndServiceName() {
    TestServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(5, TimeUnit.SECONDS)
        .unary(TestRequest.newBuilder().setAction("ok").build());

    await().atMost(Duration.ofSeconds(10)).until(() -> !spans().isEmpty());
    Span span = spans().get(0);
    Map<String, String> attributes = attributes(span.getAttributesList());
    ResourceSpans resource = received.get(0).getResourceSpans(0);

    assertThat(span.getName()).isEqualTo("chassis.test.v1.TestService/Unary");
    assertThat(span.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_SERVER);
    assertThat(span.getTraceId().size()).isEqualTo(16);
    assertThat(attributes)
        .containsEntry("rpc.system", "grpc")
        .containsEntry("rpc.service", "chassis.test.v1.TestService")
        .containsEntry("rpc.method", "Unary")
        .containsEntry("rpc.grpc.status_code", "0");
    assertThat(attributes(resource.getResource().getAttributesList()))
        .containsEntry("service.name", "otlp-test");
  }

  @Test
  void noEndpointConfigured_exportsNothing_butTracesStillHaveIds() {
    assertThat(ChassisTracing.exportConfigured(Map.of(), new Properties())).isFalse();
    assertThat(
            ChassisTracing.exportConfigured(
                Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://jaeger:4317"), new Properties()))
        .isTrue();
    OpenTelemetrySdk quiet = ChassisTracing.autoconfigure("quiet", Map.of(), new Properties());
    try {
      io.opentelemetry.api.trace.Span span =
          quiet.getTracer("test").spanBuilder("local").startSpan();

      assertThat(span.getSpanContext().isValid()).as("context is created and propagated").isTrue();
      assertThat(span.getSpanContext().isSampled()).isTrue();
      span.end();
    } finally {
      quiet.shutdown().join(5, TimeUnit.SECONDS);
    }
  }

  private List<Span> spans() {
    return received.stream()
        .flatMap(r -> r.getResourceSpansList().stream())
        .flatMap(r -> r.getScopeSpansList().stream())
        .flatMap(s -> s.getSpansList().stream())
        .filter(s -> s.getKind() == Span.SpanKind.SPAN_KIND_SERVER)
        .collect(Collectors.toList());
  }

  private static Map<String, String> attributes(List<KeyValue> values) {
    return values.stream()
        .collect(
            Collectors.toMap(
                KeyValue::getKey,
                kv ->
                    kv.getValue().hasIntValue()
                        ? String.valueOf(kv.getValue().getIntValue())
                        : kv.getValue().getStringValue(),
                (a, b) -> a));
  }
}
