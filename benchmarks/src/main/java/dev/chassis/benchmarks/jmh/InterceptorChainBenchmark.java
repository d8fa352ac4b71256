package dev.chassis.benchmarks.jmh;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.joran.spi.JoranException;
import ch.qos.logback.core.spi.AppenderAttachable;
import com.google.common.util.concurrent.MoreExecutors;
import dev.chassis.ChassisConfig;
import dev.chassis.benchmarks.servers.BenchUserService;
import dev.chassis.benchmarks.servers.DroppingSpanExporter;
import dev.chassis.errors.ErrorInterceptors;
import dev.chassis.observability.logging.LogContext;
import dev.chassis.observability.logging.LoggingInterceptors;
import dev.chassis.observability.metrics.ChassisMetrics;
import dev.chassis.observability.metrics.GrpcMetrics;
import dev.chassis.observability.tracing.ChassisTracing;
import dev.chassis.resilience.CircuitBreakerSettings;
import dev.chassis.resilience.ResilienceInterceptors;
import dev.chassis.resilience.ServerLimits;
import dev.chassis.sample.user.v1.GetUserRequest;
import dev.chassis.sample.user.v1.User;
import dev.chassis.sample.user.v1.UserServiceGrpc;
import dev.chassis.server.ChassisServer;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SdkTracerProviderBuilder;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
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
 * Per-call cost of Chassis' interceptors: one unary {@code user.v1.UserService/GetUser} call (the
 * sample's contract, answered from memory by {@link BenchUserService}) over grpc's in-process
 * transport with direct executors on both sides, so no thread hand-off hides the cost. Compare each
 * chain with {@code none}, the bare call; the difference is what the interceptors cost.
 *
 * <p>{@code chain}:
 *
 * <ul>
 *   <li>{@code none}: no interceptors.
 *   <li>{@code metrics}: {@link GrpcMetrics#serverInterceptor}.
 *   <li>{@code access-log}: the logging context ({@code grpc.method} in the MDC) and the access
 *       log, every call logged, through Chassis' own {@code chassis/logback-json.xml}
 *       (OpenTelemetry's MDC appender around logstash-logback-encoder) into a stream that discards
 *       the bytes.
 *   <li>{@code limits}: deadline bounds ({@code chassis.limits.max-deadline}) and the default
 *       concurrency cap. No rate limit: it is off by default.
 *   <li>{@code rate-limit}: the rate limiter alone with one {@code "*"} rule it never exhausts (not
 *       in {@code default}).
 *   <li>{@code errors}: exception mapping.
 *   <li>{@code tracing-propagation}: the OpenTelemetry server interceptor with a real SDK sampling
 *       parent-based with root ratio 0; the call carries no sampled parent, so the span is not
 *       recorded, yet trace context is created and made current.
 *   <li>{@code tracing-recorded}: every span recorded and handed to a {@link BatchSpanProcessor}
 *       whose exporter drops it.
 *   <li>{@code default}: the very chain a {@link ChassisServer} builds from the default
 *       configuration (it is one, on the in-process transport), with tracing as in {@code
 *       tracing-propagation} and the access log at its default (every OK call logged).
 *   <li>{@code full}: {@code default} with tracing as in {@code tracing-recorded}.
 *   <li>{@code client-default}: no server interceptors; the client interceptors {@code
 *       Chassis.channel} installs by default (tracing as in {@code tracing-propagation}, metrics,
 *       circuit breaker, default deadline, downstream-failure marking), assembled from the same
 *       factories in the same order as {@code ChassisChannelBuilder.build()} (its channel cannot be
 *       in-process).
 * </ul>
 *
 * <p>Run, from the repository root (JSON results with {@code gc.alloc.rate.norm}, bytes per call):
 *
 * <pre>{@code
 * ./mvnw -B -o -q -pl benchmarks -am package dependency:build-classpath -DskipTests \
 *     -Dmdep.outputFile=target/cp.txt
 * java -cp benchmarks/target/classes:$(cat benchmarks/target/cp.txt) org.openjdk.jmh.Main \
 *     InterceptorChainBenchmark -prof gc -rf json -rff interceptor-chain.json
 * }</pre>
 *
 * <p>Build the classpath in the same reactor run as the package ({@code -am}), so it names this
 * checkout's chassis-core jar rather than a snapshot in the local repository. One chain: {@code -p
 * chain=default}. A full run of every chain takes about 2 minutes (one fork, 3 × 1 s warm-up and 5
 * × 1 s measurement each). Absolute numbers depend on the machine; compare chains within one run.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class InterceptorChainBenchmark {
  @Param({
    "none",
    "metrics",
    "access-log",
    "limits",
    "rate-limit",
    "errors",
    "tracing-propagation",
    "tracing-recorded",
    "default",
    "full",
    "client-default"
  })
  public String chain = "none";

  private static final String SERVICE = "bench";
  // grpc's own direct executor: ServerImpl recognizes this very instance and then skips its
  // serializing hand-off, as InProcessServerBuilder.directExecutor() does for the other chains.
  private static final Executor DIRECT = MoreExecutors.directExecutor();

  private final List<AutoCloseable> resources = new ArrayList<>();
  private final GetUserRequest request =
      GetUserRequest.newBuilder().setId(BenchUserService.seedId(0)).build();
  private UserServiceGrpc.@Nullable UserServiceBlockingStub stub;

  @Setup(Level.Trial)
  public void start() throws Exception {
    ChassisConfig defaults = ChassisConfig.of("chassis.service.name = " + SERVICE);
    LogContext.setServiceName(SERVICE);
    routeAccessLogToNowhere();
    BenchUserService users = BenchUserService.withSeededUsers(1);
    PrometheusMeterRegistry registry = ChassisMetrics.newPrometheusRegistry(SERVICE);
    resources.add(registry::close);
    String name = "jmh-" + chain;
    List<ServerInterceptor> server = new ArrayList<>();
    List<ClientInterceptor> client = new ArrayList<>();
    switch (chain) {
      case "none" -> {}
      case "metrics" -> server.add(GrpcMetrics.serverInterceptor(registry));
      case "access-log" -> {
        server.add(LoggingInterceptors.mdc());
        server.add(LoggingInterceptors.accessLog(org.slf4j.event.Level.INFO, 1.0));
      }
      case "limits" -> {
        ChassisConfig.Limits limits = defaults.limits();
        server.add(ResilienceInterceptors.deadlineBounds(limits.maxDeadline()));
        if (limits.rate() != null) {
          server.add(ServerLimits.rateLimit(limits.rate(), registry));
        }
        if (limits.concurrency() != null) {
          server.add(ServerLimits.concurrencyLimit(limits.concurrency(), registry));
        }
      }
      case "rate-limit" -> {
        ChassisConfig limited =
            defaults.with(
                "chassis.limits.rate.methods { \"*\" { permits = 1000000000, period = 1s } }");
        server.add(ServerLimits.rateLimit(requireRate(limited), registry));
      }
      case "errors" -> server.add(ErrorInterceptors.exceptionMapping());
      case "tracing-propagation" ->
          server.add(ChassisTracing.serverInterceptor(tracing(false, resources)));
      case "tracing-recorded" ->
          server.add(ChassisTracing.serverInterceptor(tracing(true, resources)));
      case "default", "full" -> {
        ChassisServer chassis =
            // No drain delay: only how the server stops, not its chain.
            ChassisServer.newBuilder(defaults.with("chassis.shutdown.drain-delay = 0s"))
                .inProcess(name)
                .executor(DIRECT)
                .meterRegistry(registry)
                .openTelemetry(tracing(chain.equals("full"), resources))
                .addService(users)
                .start();
        resources.add(0, chassis);
      }
      case "client-default" -> {
        // As ChassisChannelBuilder.build() with the default chassis.client settings.
        Duration timeout = defaults.raw().getDuration("chassis.client.timeout");
        client.add(ChassisTracing.clientInterceptor(tracing(false, resources)));
        client.add(GrpcMetrics.clientInterceptor(registry, "user-service"));
        client.add(
            ResilienceInterceptors.circuitBreaker(
                CircuitBreakerSettings.ofDefaults(), "user-service", registry));
        client.add(ResilienceInterceptors.defaultDeadline(method -> timeout));
        client.add(ErrorInterceptors.markDownstreamFailures("user-service"));
        Collections.reverse(client); // grpc runs the last interceptor added first
      }
      default -> throw new IllegalArgumentException("chain: " + chain);
    }
    if (!chain.equals("default") && !chain.equals("full")) {
      Server bare =
          InProcessServerBuilder.forName(name)
              .directExecutor()
              .addService(ServerInterceptors.interceptForward(users, server))
              .build()
              .start();
      resources.add(0, () -> bare.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    }
    ManagedChannel channel =
        InProcessChannelBuilder.forName(name).directExecutor().intercept(client).build();
    resources.add(0, () -> channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    stub = UserServiceGrpc.newBlockingStub(channel);
  }

  @TearDown(Level.Trial)
  public void stop() throws Exception {
    for (AutoCloseable resource : resources) {
      resource.close();
    }
    resources.clear();
  }

  @Benchmark
  public User getUser() {
    UserServiceGrpc.UserServiceBlockingStub stub = this.stub;
    if (stub == null) {
      throw new IllegalStateException("not set up");
    }
    return stub.getUser(request);
  }

  private static dev.chassis.resilience.RateLimitSettings requireRate(ChassisConfig config) {
    dev.chassis.resilience.RateLimitSettings rate = config.limits().rate();
    if (rate == null) {
      throw new IllegalStateException("no rate rule");
    }
    return rate;
  }

  /**
   * A real SDK with Chassis' propagators (W3C trace context and baggage). Recorded: every span is
   * sampled and batched to an exporter that drops it. Otherwise parent-based with root ratio 0:
   * calls without a sampled parent get a non-recording span that still carries trace context.
   */
  private static OpenTelemetrySdk tracing(boolean recorded, List<AutoCloseable> resources) {
    SdkTracerProviderBuilder provider = SdkTracerProvider.builder();
    if (recorded) {
      provider
          .setSampler(Sampler.alwaysOn())
          .addSpanProcessor(BatchSpanProcessor.builder(new DroppingSpanExporter()).build());
    } else {
      provider.setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(0.0)));
    }
    OpenTelemetrySdk sdk =
        OpenTelemetrySdk.builder()
            .setTracerProvider(provider.build())
            .setPropagators(
                ContextPropagators.create(
                    TextMapPropagator.composite(
                        W3CTraceContextPropagator.getInstance(),
                        W3CBaggagePropagator.getInstance())))
            .build();
    resources.add(() -> sdk.shutdown().join(5, TimeUnit.SECONDS));
    return sdk;
  }

  /**
   * Configures {@code chassis.access} exactly as a service including Chassis' {@code
   * chassis/logback-json.xml} does, at INFO, then points its console appender at a stream that
   * discards the bytes (JMH owns the forked JVM's stdout). Every other logger keeps the benchmarks'
   * logback.xml (warnings only).
   */
  private static void routeAccessLogToNowhere() throws JoranException {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    ch.qos.logback.classic.Logger access = context.getLogger(LoggingInterceptors.ACCESS_LOGGER);
    access.detachAndStopAllAppenders();
    String xml =
        "<configuration><include resource=\"chassis/logback-json.xml\"/>"
            + "<logger name=\""
            + LoggingInterceptors.ACCESS_LOGGER
            + "\" level=\"INFO\" additivity=\"false\"><appender-ref ref=\"CHASSIS_JSON\"/>"
            + "</logger></configuration>";
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    configurator.doConfigure(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    boolean found = false;
    for (Iterator<Appender<ILoggingEvent>> it = access.iteratorForAppenders(); it.hasNext(); ) {
      if (it.next() instanceof AppenderAttachable<?> wrapper) {
        for (Iterator<? extends Appender<?>> inner = wrapper.iteratorForAppenders();
            inner.hasNext(); ) {
          if (inner.next() instanceof OutputStreamAppender<?> console) {
            console.setOutputStream(OutputStream.nullOutputStream());
            found = true;
          }
        }
      }
    }
    if (!found) {
      throw new IllegalStateException("chassis/logback-json.xml: no console appender found");
    }
  }
}
