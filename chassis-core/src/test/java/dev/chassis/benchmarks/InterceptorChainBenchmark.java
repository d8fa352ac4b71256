package dev.chassis.benchmarks;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import dev.chassis.errors.ErrorInterceptors;
import dev.chassis.observability.logging.LoggingInterceptors;
import dev.chassis.observability.metrics.ChassisMetrics;
import dev.chassis.observability.metrics.GrpcMetrics;
import dev.chassis.observability.tracing.ChassisTracing;
import dev.chassis.resilience.ConcurrencyLimitSettings;
import dev.chassis.resilience.ResilienceInterceptors;
import dev.chassis.resilience.ServerLimits;
import dev.chassis.test.v1.TestRequest;
import dev.chassis.test.v1.TestResponse;
import dev.chassis.test.v1.TestServiceGrpc;
import dev.chassis.testsupport.TestServiceImpl;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.logstash.logback.encoder.LogstashEncoder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.slf4j.LoggerFactory;

/**
 * Per-call cost of the Chassis server interceptors: a unary call over grpc's in-process transport
 * with direct executors on both sides (so no thread hand-off hides the cost), with no interceptors
 * ({@code none}), each observability interceptor alone, deadline bounds plus the default
 * concurrency cap ({@code limits}), and the whole default chain. Tracing uses the real SDK with a
 * batch processor and an exporter that drops spans; the access log is encoded to JSON by
 * logstash-logback-encoder and written to a stream that discards it.
 *
 * <p>Run: see docs/benchmarks.md.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class InterceptorChainBenchmark {
  @Param({"none", "metrics", "tracing", "access-log", "limits", "chassis-chain"})
  public String chain;

  private Server server;
  private ManagedChannel channel;
  private OpenTelemetrySdk tracing;
  private PrometheusMeterRegistry registry;
  private TestServiceGrpc.TestServiceBlockingStub stub;
  private final TestRequest request = TestRequest.newBuilder().setAction("ok").build();

  @Setup(Level.Trial)
  public void start() throws Exception {
    discardAccessLog();
    registry = ChassisMetrics.newPrometheusRegistry("bench");
    tracing =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .addSpanProcessor(BatchSpanProcessor.builder(new DroppingExporter()).build())
                    .build())
            .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
            .build();
    List<ServerInterceptor> interceptors = new ArrayList<>();
    switch (chain) {
      case "none" -> {}
      case "metrics" -> interceptors.add(GrpcMetrics.serverInterceptor(registry));
      case "tracing" -> interceptors.add(ChassisTracing.serverInterceptor(tracing));
      case "access-log" ->
          interceptors.add(LoggingInterceptors.accessLog(org.slf4j.event.Level.INFO, 1.0));
      case "chassis-chain" -> {
        interceptors.add(ChassisTracing.serverInterceptor(tracing));
        interceptors.add(GrpcMetrics.serverInterceptor(registry));
        interceptors.add(LoggingInterceptors.mdc());
        interceptors.add(LoggingInterceptors.accessLog(org.slf4j.event.Level.INFO, 1.0));
        interceptors.add(ResilienceInterceptors.deadlineBounds(Duration.ofMinutes(5)));
        interceptors.add(
            ServerLimits.concurrencyLimit(ConcurrencyLimitSettings.fixed(1000), registry));
        interceptors.add(ErrorInterceptors.exceptionMapping());
      }
      case "limits" -> {
        interceptors.add(ResilienceInterceptors.deadlineBounds(Duration.ofMinutes(5)));
        interceptors.add(
            ServerLimits.concurrencyLimit(ConcurrencyLimitSettings.fixed(1000), registry));
      }
      default -> throw new IllegalArgumentException(chain);
    }
    String name = "bench-" + chain;
    server =
        InProcessServerBuilder.forName(name)
            .directExecutor()
            .addService(
                ServerInterceptors.interceptForward(
                    new TestServiceImpl().bindService(), interceptors))
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    stub = TestServiceGrpc.newBlockingStub(channel);
  }

  @TearDown(Level.Trial)
  public void stop() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    tracing.shutdown().join(5, TimeUnit.SECONDS);
    registry.close();
  }

  @Benchmark
  public TestResponse unaryCall() {
    return stub.unary(request);
  }

  /** chassis.access at INFO into the JSON encoder and a stream that drops the bytes. */
  private static void discardAccessLog() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    LogstashEncoder encoder = new LogstashEncoder();
    encoder.setContext(context);
    encoder.start();
    OutputStreamAppender<ILoggingEvent> appender = new OutputStreamAppender<>();
    appender.setContext(context);
    appender.setEncoder(encoder);
    appender.setOutputStream(OutputStream.nullOutputStream());
    appender.start();
    Logger access = context.getLogger(LoggingInterceptors.ACCESS_LOGGER);
    access.detachAndStopAllAppenders();
    access.setAdditive(false);
    access.setLevel(ch.qos.logback.classic.Level.INFO);
    access.addAppender(appender);
  }

  /** Accepts and forgets spans, so the SDK does all its work but nothing leaves the process. */
  private static final class DroppingExporter implements SpanExporter {
    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode flush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }
}
