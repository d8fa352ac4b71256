package dev.chassis.client;

import dev.chassis.ChassisConfig;
import dev.chassis.ChassisConfigException;
import dev.chassis.discovery.consul.ConsulNameResolverProvider;
import dev.chassis.errors.ErrorInterceptors;
import dev.chassis.internal.tls.ReloadingTls;
import dev.chassis.observability.metrics.ChassisMetrics;
import dev.chassis.observability.metrics.GrpcMetrics;
import dev.chassis.observability.tracing.ChassisTracing;
import dev.chassis.resilience.ResilienceInterceptors;
import io.grpc.ClientInterceptor;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Builds a {@link ManagedChannel} to another service from {@code chassis.clients."name"} (over the
 * {@code chassis.client} defaults): the target, a default service config with the load-balancing
 * policy, per-method timeouts and retry policies, keepalive, message size limit, and plaintext or
 * TLS.
 *
 * <pre>{@code
 * ManagedChannel channel = Chassis.channel(config, "user-service").build();
 * UserServiceGrpc.UserServiceBlockingStub users = UserServiceGrpc.newBlockingStub(channel);
 * }</pre>
 *
 * <p>Targets: {@code consul:///name} (the default when Consul is configured), {@code
 * static:///host:port,host:port}, {@code dns:///host:port}, plain {@code host:port}. The caller
 * owns the channel and shuts it down. Not thread-safe; build once.
 */
public final class ChassisChannelBuilder {
  private final ChassisConfig config;
  private final String serviceName;
  private final ClientSettings settings;
  private final List<ClientInterceptor> interceptors = new ArrayList<>();
  private @Nullable String target;
  private @Nullable Executor executor;
  private @Nullable MeterRegistry meterRegistry;
  private @Nullable OpenTelemetry openTelemetry;

  private ChassisChannelBuilder(ChassisConfig config, String serviceName) {
    this.config = config;
    this.serviceName = serviceName;
    this.settings = ClientSettings.forService(config, serviceName);
    this.target = settings.target();
  }

  /**
   * Starts a channel to {@code serviceName}, configured by {@code chassis.clients."serviceName"}.
   *
   * @throws ChassisConfigException when that configuration is invalid
   */
  public static ChassisChannelBuilder forService(ChassisConfig config, String serviceName) {
    if (serviceName.isBlank()) {
      throw new IllegalArgumentException("serviceName: blank (expected: a service name)");
    }
    return new ChassisChannelBuilder(config, serviceName);
  }

  /** Overrides the configured target, for example {@code "static:///127.0.0.1:50051"}. */
  public ChassisChannelBuilder target(String target) {
    this.target = target;
    return this;
  }

  /**
   * Adds application interceptors; they run outermost, in the order given, before the Chassis
   * client chain (tracing, metrics, downstream-failure marking).
   */
  public ChassisChannelBuilder intercept(ClientInterceptor... interceptors) {
    this.interceptors.addAll(List.of(interceptors));
    return this;
  }

  /**
   * Records client call metrics into {@code registry} instead of the service's process-wide default
   * registry (the one its server serves at {@code /metrics}).
   */
  public ChassisChannelBuilder meterRegistry(MeterRegistry registry) {
    this.meterRegistry = registry;
    return this;
  }

  /** Traces calls with {@code openTelemetry} instead of the process-wide default SDK. */
  public ChassisChannelBuilder openTelemetry(OpenTelemetry openTelemetry) {
    this.openTelemetry = openTelemetry;
    return this;
  }

  /** Runs callbacks (stream observers) on {@code executor}; the caller owns it. */
  public ChassisChannelBuilder executor(Executor executor) {
    this.executor = executor;
    return this;
  }

  /**
   * The target the channel will use: the explicit or configured one, else {@code consul:///name}
   * when Consul is configured.
   *
   * @throws ChassisConfigException when there is none
   */
  public String resolvedTarget() {
    if (target != null) {
      return target;
    }
    if (config.consul().enabled()) {
      return ConsulNameResolverProvider.SCHEME + ":///" + serviceName;
    }
    String key = "chassis.clients." + serviceName + ".target";
    throw new ChassisConfigException(
        key
            + ": missing (expected: a target such as static:///127.0.0.1:50051, or"
            + " chassis.discovery.consul.address set)");
  }

  /** The default service config the channel is built with, as grpc's JSON-shaped map. */
  public Map<String, ?> serviceConfig() {
    return ServiceConfigs.from(settings);
  }

  /** Builds the channel. It connects lazily, on the first call. */
  public ManagedChannel build() {
    String resolved = resolvedTarget();
    ReloadingTls.Client tls = tls();
    try {
      ManagedChannelBuilder<?> builder =
          Grpc.newChannelBuilder(
              resolved, tls == null ? InsecureChannelCredentials.create() : tls.credentials());
      if (resolved.startsWith(ConsulNameResolverProvider.SCHEME + ":")) {
        builder.setNameResolverArg(ConsulNameResolverProvider.SETTINGS, config.consul());
      }
      builder
          .defaultServiceConfig(serviceConfig())
          // Our config is the source of truth; a DNS TXT service config must not replace it.
          .disableServiceConfigLookUp()
          .enableRetry()
          .keepAliveTime(settings.keepAliveTime().toNanos(), TimeUnit.NANOSECONDS)
          .keepAliveTimeout(settings.keepAliveTimeout().toNanos(), TimeUnit.NANOSECONDS)
          .keepAliveWithoutCalls(settings.keepAliveWithoutCalls())
          .maxInboundMessageSize(settings.maxInboundMessageSize())
          .userAgent("chassis/" + config.serviceName());
      if (settings.authority() != null) {
        builder.overrideAuthority(settings.authority());
      }
      if (executor != null) {
        builder.executor(executor);
      }
      // Outermost first: application interceptors, tracing (client span, traceparent), metrics,
      // circuit breaker (sees each call's final outcome; grpc's retries run below all of these),
      // default deadline, then marking failures received from the other service so a server
      // handler cannot forward them as its own statuses.
      List<ClientInterceptor> outermostFirst = new ArrayList<>(interceptors);
      outermostFirst.add(
          ChassisTracing.clientInterceptor(
              openTelemetry != null
                  ? openTelemetry
                  : ChassisTracing.defaultOpenTelemetry(config.serviceName())));
      MeterRegistry registry =
          meterRegistry != null
              ? meterRegistry
              : ChassisMetrics.defaultRegistry(config.serviceName());
      outermostFirst.add(GrpcMetrics.clientInterceptor(registry, serviceName));
      if (settings.circuitBreaker().enabled()) {
        outermostFirst.add(
            ResilienceInterceptors.circuitBreaker(
                settings.circuitBreaker(), serviceName, registry));
      }
      outermostFirst.add(ResilienceInterceptors.defaultDeadline(settings::timeoutFor));
      outermostFirst.add(ErrorInterceptors.markDownstreamFailures(serviceName));
      // grpc runs the last interceptor added first.
      List<ClientInterceptor> chain = new ArrayList<>(outermostFirst);
      Collections.reverse(chain);
      builder.intercept(chain);
      ManagedChannel channel = builder.build();
      return tls == null ? channel : new ClosingChannel(channel, tls.reloading());
    } catch (RuntimeException e) {
      if (tls != null) {
        tls.reloading().close(); // nothing else would stop re-reading its files
      }
      throw e;
    }
  }

  /** TLS whose files are re-read every reload-interval; null for plaintext. */
  private ReloadingTls.@Nullable Client tls() {
    ClientSettings.Tls tls = settings.tls();
    if (!tls.enabled()) {
      return null;
    }
    return ReloadingTls.client(tls.ca(), tls.cert(), tls.key(), tls.reloadInterval());
  }
}
