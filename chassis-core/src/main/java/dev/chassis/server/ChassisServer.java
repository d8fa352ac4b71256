package dev.chassis.server;

import dev.chassis.ChassisConfig;
import dev.chassis.discovery.ServiceRegistry;
import dev.chassis.discovery.consul.ConsulServiceRegistry;
import dev.chassis.discovery.consul.ConsulSettings;
import dev.chassis.errors.ErrorInterceptors;
import dev.chassis.health.ReadinessCheck;
import dev.chassis.internal.grpcweb.GrpcWebServer;
import dev.chassis.internal.grpcweb.StaticResources;
import dev.chassis.internal.health.ReadinessMonitor;
import dev.chassis.internal.tls.ReloadingTls;
import dev.chassis.observability.logging.LogContext;
import dev.chassis.observability.logging.LoggingInterceptors;
import dev.chassis.observability.metrics.ChassisMetrics;
import dev.chassis.observability.metrics.GrpcMetrics;
import dev.chassis.observability.tracing.ChassisTracing;
import dev.chassis.resilience.ResilienceInterceptors;
import dev.chassis.resilience.ServerLimits;
import dev.chassis.security.AuthorizationInterceptor;
import dev.chassis.security.PeerIdentities;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.TlsServerCredentials;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Chassis gRPC server: the application's services behind the Chassis interceptor chain,
 * {@code grpc.health.v1}, reflection, the admin HTTP endpoint, and graceful drain.
 *
 * <pre>{@code
 * ChassisConfig config = ChassisConfig.load();
 * ChassisServer server = ChassisServer.newBuilder(config)
 *     .addService(new UserServiceHandler(repository))
 *     .readinessCheck("database", repository::ping)
 *     .start();
 * server.awaitTermination();   // returns after SIGTERM has drained the server
 * }</pre>
 *
 * <p><b>gRPC-Web</b> ({@code chassis.grpc-web.port}): browsers call the same services, through the
 * same interceptors, on a port of their own; see {@link Builder#grpcWebResources}.
 *
 * <p><b>Interceptors</b>, outermost first: tracing (OpenTelemetry server span), metrics (gRFC A66
 * names), logging context ({@code grpc.method} in the MDC) and access log, deadline bounds, rate
 * limit, concurrency limit, error mapping, then the application's own interceptors, then the
 * handler.
 *
 * <p><b>Drain</b> ({@link #close()} or SIGTERM): readiness turns 503 and every health status
 * NOT_SERVING; the instance is deregistered (Consul), then {@link LifecycleListener#onDraining}
 * runs; new calls are still served for {@code chassis.shutdown.drain-delay}; then the port stops
 * accepting and in-flight calls get until {@code chassis.shutdown.grace} (counted from the start of
 * the drain) to finish; what remains is cancelled. On SIGTERM the process then exits with status 0.
 *
 * <p>Thread-safe. {@link #close()} is idempotent and blocks until the server stopped.
 */
public final class ChassisServer implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(ChassisServer.class);
  private static final Duration FORCED_STOP_WAIT = Duration.ofSeconds(5);

  private final ChassisConfig config;
  private final Server server;
  private final @Nullable AdminHttpServer admin;
  private final @Nullable GrpcWebServer web;
  private final ReadinessMonitor readiness;
  private final PrometheusMeterRegistry meterRegistry;
  private final AutoCloseable systemMetrics;
  private final List<ServerInterceptor> chain;
  private final DrainableCalls healthCalls;
  private final @Nullable ExecutorService ownedExecutor;
  private final List<LifecycleListener> listeners;
  private final @Nullable ServiceRegistry registry;
  private final @Nullable ReloadingTls tlsReloading;
  private final boolean handleProcessSignals;
  private final AtomicBoolean draining = new AtomicBoolean();
  private final CountDownLatch terminated = new CountDownLatch(1);
  private final @Nullable Thread shutdownHook;

  private ChassisServer(Builder builder, Started started) {
    this.config = builder.config;
    this.server = started.server;
    this.admin = started.admin;
    this.web = started.web;
    this.readiness = started.readiness;
    this.meterRegistry = started.meterRegistry;
    this.systemMetrics = started.systemMetrics;
    this.chain = started.chain;
    this.healthCalls = started.healthCalls;
    this.ownedExecutor = started.ownedExecutor;
    this.listeners = List.copyOf(builder.listeners);
    this.registry = started.registry;
    this.tlsReloading = started.tlsReloading;
    this.handleProcessSignals = builder.inProcessName == null;
    this.shutdownHook =
        handleProcessSignals
            ? new Thread(this::closeFromShutdownHook, "chassis-shutdown-hook")
            : null;
  }

  /** Starts building a server from {@code config}. */
  public static Builder newBuilder(ChassisConfig config) {
    return new Builder(config);
  }

  /** The gRPC port actually bound (useful with {@code chassis.grpc.port = 0}); -1 in-process. */
  public int port() {
    return server.getPort();
  }

  /** The admin HTTP port actually bound, or -1 when the admin endpoint is disabled. */
  public int adminPort() {
    return admin == null ? -1 : admin.port();
  }

  /** The gRPC-Web port actually bound, or -1 when gRPC-Web is disabled. */
  public int grpcWebPort() {
    return web == null ? -1 : web.port();
  }

  /** The configuration this server runs with. */
  public ChassisConfig config() {
    return config;
  }

  /**
   * The registry served at {@code /metrics}: the service's process-wide default ({@link
   * ChassisMetrics#defaultRegistry}) unless the builder was given one. Add application meters to
   * it.
   */
  public PrometheusMeterRegistry meterRegistry() {
    return meterRegistry;
  }

  /** Whether the server is started, not draining, and every readiness check passes. */
  public boolean isReady() {
    return readiness.snapshot().ready();
  }

  /** Whether a drain has begun. */
  public boolean isDraining() {
    return draining.get();
  }

  /** Blocks until the server has stopped (after a drain). */
  public void awaitTermination() throws InterruptedException {
    terminated.await();
  }

  /** Blocks until the server has stopped or {@code timeout} passed; returns whether it stopped. */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    return terminated.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /**
   * Drains and stops the server as described in the class documentation. Blocks until stopped; at
   * most about {@code chassis.shutdown.grace} plus a few seconds if calls had to be cancelled.
   * Calling it again waits for the first drain to finish.
   */
  @Override
  public void close() {
    if (!draining.compareAndSet(false, true)) {
      awaitUninterruptibly();
      return;
    }
    long start = System.nanoTime();
    Duration grace = config.shutdown().grace();
    logger.info("draining {}: health NOT_SERVING, grace {}", config.serviceName(), grace);
    readiness.drain();
    if (registry != null) {
      try {
        registry.deregister();
      } catch (RuntimeException e) {
        logger.error("service registry {} failed to deregister", registry, e);
      }
    }
    for (LifecycleListener listener : listeners) {
      notify(listener, "onDraining", () -> listener.onDraining(this));
    }
    Duration delay = min(config.shutdown().drainDelay(), grace);
    sleepUninterruptibly(delay.minusNanos(System.nanoTime() - start));
    server.shutdown();
    if (web != null) {
      web.shutdown();
    }
    // Health Watch streams never end by themselves; end them so they do not hold the drain.
    healthCalls.closeAll(Status.UNAVAILABLE.withDescription("server is shutting down"));
    boolean clean = awaitServer(grace.minusNanos(System.nanoTime() - start));
    clean &= web == null || awaitWeb(grace.minusNanos(System.nanoTime() - start));
    if (!clean) {
      logger.warn("grace period {} over; cancelling the calls still in flight", grace);
      server.shutdownNow();
      if (web != null) {
        web.shutdownNow();
      }
      awaitServer(FORCED_STOP_WAIT);
    }
    stopResources();
    // The spans of the calls that just finished, before a signal's System.exit.
    ChassisTracing.flushDefault(FORCED_STOP_WAIT);
    for (LifecycleListener listener : listeners) {
      notify(listener, "onStopped", () -> listener.onStopped(this));
    }
    ShutdownSignals.unregister(this);
    removeShutdownHook();
    logger.info(
        "stopped {} in {} ms ({})",
        config.serviceName(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start),
        clean ? "all calls completed" : "calls cancelled after the grace period");
    terminated.countDown();
  }

  private void stopResources() {
    if (admin != null) {
      admin.close();
    }
    if (web != null) {
      web.close();
    }
    readiness.close();
    if (registry != null) {
      closeQuietly(registry);
    }
    stopExecutor(ownedExecutor);
    closeQuietly(systemMetrics);
    if (tlsReloading != null) {
      tlsReloading.close();
    }
    for (ServerInterceptor interceptor : chain) {
      if (interceptor instanceof AutoCloseable closeable) {
        closeQuietly(closeable); // e.g. the concurrency limit's gauges, the policy watcher
      }
    }
  }

  /** Lets callbacks grpc already queued (onCancel, onComplete) run, briefly, then interrupts. */
  private static void stopExecutor(@Nullable ExecutorService executor) {
    if (executor == null) {
      return;
    }
    executor.shutdown();
    try {
      if (!executor.awaitTermination(1, TimeUnit.SECONDS)) {
        executor.shutdownNow();
      }
    } catch (InterruptedException e) {
      executor.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  private static void closeQuietly(AutoCloseable resource) {
    try {
      resource.close();
    } catch (Exception e) {
      logger.warn("closing {} failed", resource, e);
    }
  }

  /** Before listeners run, so a SIGTERM at any point after start drains. */
  private void installShutdownHandling() {
    if (shutdownHook == null) {
      return;
    }
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    if (config.shutdown().handleSignals()) {
      ShutdownSignals.register(this);
    }
  }

  private void closeFromShutdownHook() {
    if (!draining.get()) {
      logger.info("JVM is shutting down; draining");
    }
    close();
  }

  private void removeShutdownHook() {
    if (shutdownHook == null || Thread.currentThread() == shutdownHook) {
      return;
    }
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // The JVM is already shutting down (System.exit after a signal); the hook will see us closed.
      logger.debug("shutdown already in progress", e);
    }
  }

  /** Waits for the server; an interrupt must not cut the grace period short. */
  private boolean awaitServer(Duration timeout) {
    return awaitTermination(timeout, nanos -> server.awaitTermination(nanos, TimeUnit.NANOSECONDS));
  }

  /** Waits for the gRPC-Web calls in flight, like {@link #awaitServer}. */
  private boolean awaitWeb(Duration timeout) {
    GrpcWebServer running = web;
    return running == null
        || awaitTermination(timeout, nanos -> running.awaitTermination(Duration.ofNanos(nanos)));
  }

  /** Something that stops, waited for up to a number of nanoseconds. */
  private interface Termination {
    boolean await(long nanos) throws InterruptedException;
  }

  /** Waits up to {@code timeout}, through interrupts (the flag is restored). */
  private static boolean awaitTermination(Duration timeout, Termination termination) {
    long deadline = System.nanoTime() + Math.max(0, timeout.toNanos());
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return termination.await(deadline - System.nanoTime());
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void awaitUninterruptibly() {
    boolean interrupted = false;
    while (true) {
      try {
        terminated.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private static void sleepUninterruptibly(Duration duration) {
    if (duration.isNegative() || duration.isZero()) {
      return;
    }
    // Deliberate: the drain delay keeps the port open while clients notice NOT_SERVING.
    long deadline = System.nanoTime() + duration.toNanos();
    boolean interrupted = false;
    long remaining;
    while ((remaining = deadline - System.nanoTime()) > 0) {
      try {
        TimeUnit.NANOSECONDS.sleep(remaining);
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private void notify(LifecycleListener listener, String event, Runnable action) {
    try {
      action.run();
    } catch (RuntimeException e) {
      logger.error("lifecycle listener {} failed in {}", listener, event, e);
    }
  }

  private record Started(
      Server server,
      @Nullable AdminHttpServer admin,
      @Nullable GrpcWebServer web,
      ReadinessMonitor readiness,
      PrometheusMeterRegistry meterRegistry,
      AutoCloseable systemMetrics,
      List<ServerInterceptor> chain,
      DrainableCalls healthCalls,
      @Nullable ExecutorService ownedExecutor,
      @Nullable ServiceRegistry registry,
      @Nullable ReloadingTls tlsReloading) {}

  /** Builds and starts a {@link ChassisServer}. Not thread-safe; use once. */
  public static final class Builder {
    private final ChassisConfig config;
    private final List<ServerServiceDefinition> services = new ArrayList<>();
    private final List<ServerInterceptor> interceptors = new ArrayList<>();
    private final Map<String, ReadinessCheck> readinessChecks = new LinkedHashMap<>();
    private final List<LifecycleListener> listeners = new ArrayList<>();
    private @Nullable Executor executor;
    private @Nullable PrometheusMeterRegistry meterRegistry;
    private @Nullable OpenTelemetry openTelemetry;
    private @Nullable String inProcessName;
    private @Nullable ServiceRegistry serviceRegistry;
    private @Nullable ReloadingTls tlsReloading;
    private @Nullable TlsServerCredentials tlsCredentials;
    private @Nullable StaticResources grpcWebResources;

    private Builder(ChassisConfig config) {
      this.config = config;
    }

    /** Adds an application service (a generated {@code *ImplBase} subclass). */
    public Builder addService(BindableService service) {
      return addService(service.bindService());
    }

    /** Adds an application service definition. */
    public Builder addService(ServerServiceDefinition service) {
      services.add(service);
      return this;
    }

    /**
     * Adds an application interceptor. Application interceptors run inside the Chassis chain (after
     * error mapping, so their exceptions are mapped too), in the order added, outermost first.
     */
    public Builder intercept(ServerInterceptor interceptor) {
      interceptors.add(interceptor);
      return this;
    }

    /**
     * Adds a readiness check; see {@link ReadinessCheck}.
     *
     * @param name shown in {@code /health/ready} and logs, such as {@code "database"}; unique
     */
    public Builder readinessCheck(String name, ReadinessCheck check) {
      if (name.isBlank()) {
        throw new IllegalArgumentException("name: blank (expected: a check name)");
      }
      if (readinessChecks.putIfAbsent(name, check) != null) {
        throw new IllegalArgumentException("name: " + name + " (expected: a unique check name)");
      }
      return this;
    }

    /**
     * Registers the server in {@code registry} instead of the default: Consul when {@code
     * chassis.discovery.consul.address} is set and {@code registration.enabled}, else none. The
     * server takes ownership and closes it when it stops.
     */
    public Builder serviceRegistry(ServiceRegistry registry) {
      this.serviceRegistry = registry;
      return this;
    }

    /** Adds a lifecycle listener; listeners run in the order added. */
    public Builder lifecycleListener(LifecycleListener listener) {
      listeners.add(listener);
      return this;
    }

    /**
     * Runs handlers on {@code executor} instead of the Chassis pool ({@code
     * chassis.grpc.executor-threads}). The caller owns and shuts down the executor.
     */
    public Builder executor(Executor executor) {
      this.executor = executor;
      return this;
    }

    /**
     * Records call metrics into {@code registry} and serves it at {@code /metrics}, instead of the
     * service's process-wide default registry. Chassis binds JVM and process metrics to it until
     * the server stops; the caller owns and closes it.
     */
    public Builder meterRegistry(PrometheusMeterRegistry registry) {
      this.meterRegistry = registry;
      return this;
    }

    /**
     * Traces calls with {@code openTelemetry} instead of the process-wide SDK configured from the
     * {@code OTEL_*} environment ({@link ChassisTracing#defaultOpenTelemetry}).
     */
    public Builder openTelemetry(OpenTelemetry openTelemetry) {
      this.openTelemetry = openTelemetry;
      return this;
    }

    /**
     * Serves the files in the class-path directory {@code directory} (such as {@code "web"}) on GET
     * requests to the gRPC-Web port, {@code index.html} at {@code /}: a browser client page, same
     * origin as its calls. Ignored while {@code chassis.grpc-web.port} is -1. The files are read
     * once and kept in memory.
     *
     * @throws IllegalArgumentException when {@code directory} is blank or climbs out with {@code
     *     ..}
     */
    public Builder grpcWebResources(String directory) {
      this.grpcWebResources =
          StaticResources.of(directory, Thread.currentThread().getContextClassLoader());
      return this;
    }

    /**
     * Serves on grpc's in-process transport named {@code name} instead of the network: same
     * services, interceptors and health, but no admin HTTP endpoint, no signal handling. For tests;
     * chassis-testing's extension uses it.
     */
    public Builder inProcess(String name) {
      this.inProcessName = name;
      return this;
    }

    /**
     * Starts the server. On return it listens, health is published (SERVING when every readiness
     * check passed), the admin endpoint answers, and SIGTERM drains it.
     *
     * @throws IOException when a port cannot be bound
     */
    public ChassisServer start() throws IOException {
      LogContext.setServiceName(config.serviceName());
      List<String> serviceNames = new ArrayList<>();
      for (ServerServiceDefinition service : services) {
        serviceNames.add(service.getServiceDescriptor().getName());
      }
      // Everything below is undone if any step fails, so a failed start leaks no thread or port.
      PrometheusMeterRegistry registry =
          meterRegistry != null
              ? meterRegistry
              : ChassisMetrics.defaultRegistry(config.serviceName());
      // The default registry has them for the life of the JVM; a given one until we stop.
      AutoCloseable systemMetrics =
          meterRegistry != null ? ChassisMetrics.bindSystemMetrics(registry) : () -> {};
      OpenTelemetry tracing =
          openTelemetry != null
              ? openTelemetry
              : ChassisTracing.defaultOpenTelemetry(config.serviceName());
      ExecutorService ownedExecutor = executor == null ? newHandlerExecutor() : null;
      HealthStatusManager health = new HealthStatusManager();
      ReadinessMonitor readiness =
          new ReadinessMonitor(
              health,
              readinessChecks,
              serviceNames,
              config.health().checkInterval(),
              config.health().checkTimeout());
      Server server = null;
      AdminHttpServer admin = null;
      GrpcWebServer web = null;
      List<ServerInterceptor> chain = List.of();
      ServiceRegistry serviceRegistry = null;
      try {
        serviceRegistry = this.serviceRegistry != null ? this.serviceRegistry : defaultRegistry();
        DrainableCalls healthCalls = new DrainableCalls();
        chain = chain(registry, tracing);
        server = build(health, healthCalls, executor != null ? executor : ownedExecutor, chain);
        server.start();
        if (inProcessName == null && config.grpcWeb().enabled()) {
          web =
              GrpcWebServer.start(
                  config.grpcWeb(),
                  server.getServices(),
                  executor != null ? executor : Objects.requireNonNull(ownedExecutor),
                  grpcWebResources,
                  tlsCredentials);
        }
        if (inProcessName == null && config.admin().enabled()) {
          admin =
              AdminHttpServer.start(
                  config.admin().host(), config.admin().port(), registry, readiness::snapshot);
        }
        readiness.start();
        if (serviceRegistry != null) {
          // After the first readiness round, so a GRPC check that comes at once sees the truth.
          serviceRegistry.register(
              ConsulServiceRegistry.instanceFor(config, server.getPort()),
              () -> readiness.snapshot().ready());
        }
        ChassisServer started =
            new ChassisServer(
                this,
                new Started(
                    server,
                    admin,
                    web,
                    readiness,
                    registry,
                    systemMetrics,
                    chain,
                    healthCalls,
                    ownedExecutor,
                    serviceRegistry,
                    tlsReloading));
        started.installShutdownHandling();
        logger.info(
            "started {}: gRPC on {}, admin {}, gRPC-Web {}, services {}",
            config.serviceName(),
            inProcessName == null
                ? config.grpc().host() + ":" + server.getPort() + tlsMode()
                : "in-process " + inProcessName,
            admin == null ? "disabled" : "on port " + admin.port(),
            web == null ? "disabled" : "on port " + web.port() + tlsMode(),
            serviceNames);
        for (LifecycleListener listener : listeners) {
          started.notify(listener, "onStarted", () -> listener.onStarted(started));
        }
        return started;
      } catch (IOException | RuntimeException e) {
        if (admin != null) {
          admin.close();
        }
        if (web != null) {
          web.close();
        }
        if (server != null) {
          server.shutdownNow();
        }
        readiness.close();
        if (serviceRegistry != null) {
          closeQuietly(serviceRegistry);
        }
        stopExecutor(ownedExecutor);
        closeQuietly(systemMetrics);
        if (tlsReloading != null) {
          tlsReloading.close();
          tlsReloading = null;
        }
        for (ServerInterceptor interceptor : chain) {
          if (interceptor instanceof AutoCloseable closeable) {
            closeQuietly(closeable);
          }
        }
        throw e;
      }
    }

    private @Nullable ServiceRegistry defaultRegistry() {
      ConsulSettings consul = config.consul();
      if (inProcessName != null || !consul.enabled() || !consul.registration().enabled()) {
        return null;
      }
      return ConsulServiceRegistry.create(consul);
    }

    private String tlsMode() {
      if (!config.tls().enabled()) {
        return "";
      }
      return config.tls().mutual() ? " (mTLS)" : " (TLS)";
    }

    private Server build(
        HealthStatusManager health,
        DrainableCalls healthCalls,
        @Nullable Executor handlers,
        List<ServerInterceptor> chain) {
      ServerBuilder<?> builder = transport();
      builder.executor(handlers);
      for (ServerServiceDefinition service : services) {
        builder.addService(ServerInterceptors.interceptForward(service, chain));
      }
      // Health and reflection stay outside the chain; with protect-health-and-reflection the
      // peer identity and authorization interceptors guard them too.
      List<ServerInterceptor> guards = new ArrayList<>();
      if (config.authorization().protectHealthAndReflection()) {
        for (ServerInterceptor interceptor : chain) {
          if (interceptor instanceof AuthorizationInterceptor) {
            guards.add(interceptor);
          }
        }
      }
      builder.addService(
          ServerInterceptors.interceptForward(
              ServerInterceptors.intercept(health.getHealthService(), healthCalls), guards));
      if (config.grpc().reflection()) {
        builder.addService(
            ServerInterceptors.interceptForward(ProtoReflectionServiceV1.newInstance(), guards));
        builder.addService(ServerInterceptors.interceptForward(reflectionV1Alpha(), guards));
      }
      return builder.build();
    }

    /**
     * Outermost first: tracing (the span is current for everything inside), metrics, logging
     * context and access log, deadline bounds, rate limit, concurrency limit, error mapping,
     * application interceptors. Health and reflection are outside the chain: never limited.
     */
    private List<ServerInterceptor> chain(PrometheusMeterRegistry registry, OpenTelemetry tracing) {
      List<ServerInterceptor> chain = new ArrayList<>();
      chain.add(ChassisTracing.serverInterceptor(tracing));
      if (config.tls().enabled()) {
        chain.add(PeerIdentities.interceptor());
      }
      chain.add(GrpcMetrics.serverInterceptor(registry));
      chain.add(LoggingInterceptors.mdc());
      ChassisConfig.AccessLog accessLog = config.accessLog();
      if (accessLog.enabled()) {
        chain.add(LoggingInterceptors.accessLog(accessLog.level(), accessLog.okSampleRate()));
      }
      // Authorization before the limits, so callers it turns away use no one's budget; after the
      // access log and metrics, so denials are logged and counted.
      ChassisConfig.Authorization authorization = config.authorization();
      if (authorization.policyFile() != null) {
        if (!config.tls().mutual()) {
          logger.warn(
              "chassis.authorization.policy-file is set but client certificates are not required"
                  + " (chassis.tls.client-ca): no caller has an identity, so rules with principals"
                  + " never match");
        }
        chain.add(
            AuthorizationInterceptor.fromFile(
                authorization.policyFile(), authorization.reloadInterval()));
      }
      ChassisConfig.Limits limits = config.limits();
      chain.add(ResilienceInterceptors.deadlineBounds(limits.maxDeadline()));
      if (limits.rate() != null) {
        chain.add(ServerLimits.rateLimit(limits.rate(), registry));
      }
      if (limits.concurrency() != null) {
        chain.add(ServerLimits.concurrencyLimit(limits.concurrency(), registry));
      }
      chain.add(ErrorInterceptors.exceptionMapping());
      chain.addAll(interceptors);
      return chain;
    }

    private ServerBuilder<?> transport() {
      if (inProcessName != null) {
        return InProcessServerBuilder.forName(inProcessName)
            .maxInboundMessageSize(config.grpc().maxInboundMessageSize())
            .maxInboundMetadataSize(config.grpc().maxInboundMetadataSize());
      }
      ChassisConfig.Grpc grpc = config.grpc();
      InetSocketAddress address = new InetSocketAddress(grpc.host(), grpc.port());
      NettyServerBuilder builder;
      ChassisConfig.Tls tls = config.tls();
      if (tls.enabled()) {
        ReloadingTls.Server server =
            ReloadingTls.server(
                requireFile(tls.cert()),
                requireFile(tls.key()),
                tls.clientCa(),
                tls.reloadInterval());
        tlsReloading = server.reloading();
        tlsCredentials = (TlsServerCredentials) server.credentials();
        builder = NettyServerBuilder.forAddress(address, server.credentials());
      } else {
        builder = NettyServerBuilder.forAddress(address);
      }
      return builder
          .maxInboundMessageSize(grpc.maxInboundMessageSize())
          .maxInboundMetadataSize(grpc.maxInboundMetadataSize())
          .maxConnectionAge(grpc.maxConnectionAge().toNanos(), TimeUnit.NANOSECONDS)
          .maxConnectionAgeGrace(grpc.maxConnectionAgeGrace().toNanos(), TimeUnit.NANOSECONDS)
          .keepAliveTime(grpc.keepAliveTime().toNanos(), TimeUnit.NANOSECONDS)
          .keepAliveTimeout(grpc.keepAliveTimeout().toNanos(), TimeUnit.NANOSECONDS)
          .permitKeepAliveTime(grpc.permitKeepAliveTime().toNanos(), TimeUnit.NANOSECONDS)
          .permitKeepAliveWithoutCalls(grpc.permitKeepAliveWithoutCalls());
    }

    private static java.nio.file.Path requireFile(java.nio.file.@Nullable Path path) {
      if (path == null) {
        throw new IllegalStateException("TLS file missing");
      }
      return path;
    }

    @SuppressWarnings("deprecation") // v1alpha is deprecated, and still what many tools speak.
    private static BindableService reflectionV1Alpha() {
      return io.grpc.protobuf.services.ProtoReflectionService.newInstance();
    }

    private ExecutorService newHandlerExecutor() {
      int threads = config.grpc().executorThreads();
      if (threads == 0) {
        threads = Math.max(16, 4 * Runtime.getRuntime().availableProcessors());
      }
      AtomicInteger count = new AtomicInteger();
      return Executors.newFixedThreadPool(
          threads,
          runnable -> {
            Thread thread = new Thread(runnable, "chassis-grpc-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
          });
    }
  }
}
