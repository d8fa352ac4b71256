package dev.chassis.discovery.consul;

import dev.chassis.ChassisConfig;
import dev.chassis.discovery.ServiceInstance;
import dev.chassis.discovery.ServiceRegistry;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.URI;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import org.kiwiproject.consul.AgentClient;
import org.kiwiproject.consul.Consul;
import org.kiwiproject.consul.ConsulException;
import org.kiwiproject.consul.NotRegisteredException;
import org.kiwiproject.consul.model.State;
import org.kiwiproject.consul.model.agent.ImmutableRegCheck;
import org.kiwiproject.consul.model.agent.ImmutableRegistration;
import org.kiwiproject.consul.model.agent.Registration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registers a server with the local Consul agent (on {@code org.kiwiproject:consul-client}).
 *
 * <ul>
 *   <li>The registration carries the instance id, name, advertised address and port, tags and
 *       metadata, and one check: Consul's native GRPC check against the server's {@code
 *       grpc.health.v1} endpoint ({@code GRPCUseTLS} when the port serves TLS), or in TTL mode a
 *       heartbeat the server sends every {@code ttl / 3} (passing while SERVING, failing
 *       otherwise). Either way with {@code DeregisterCriticalServiceAfter}.
 *   <li>A failed registration is retried in the background with exponential backoff and jitter, so
 *       a service that is otherwise healthy starts and serves; with {@code fail-fast} the server's
 *       start fails instead when no attempt succeeded within {@code fail-fast-timeout}.
 *   <li>Every {@code verify-interval} the agent is asked whether it still knows the instance; one
 *       that forgot it (agent restart without state) gets it again. In TTL mode a heartbeat the
 *       agent rejects as unknown re-registers at once.
 *   <li>{@link #deregister()} stops all of that and removes the instance; the server calls it first
 *       thing in its drain.
 * </ul>
 *
 * <p>Chassis creates one for every server when Consul is configured; there is nothing to call.
 * Thread-safe.
 */
public final class ConsulServiceRegistry implements ServiceRegistry {
  private static final Logger logger = LoggerFactory.getLogger(ConsulServiceRegistry.class);

  private final ConsulSettings settings;
  private final URI address;
  private final Consul consul;
  private final ScheduledExecutorService scheduler;
  private final Object lock = new Object();

  // Guarded by lock.
  private @Nullable Registration registration;
  private @Nullable String checkId;
  private BooleanSupplier serving = () -> true;
  private boolean registered;
  private boolean attempted;
  private boolean stopped;
  private int failures;
  private @Nullable ScheduledFuture<?> retry;
  private final List<ScheduledFuture<?>> periodic = new java.util.ArrayList<>();

  private ConsulServiceRegistry(ConsulSettings settings, URI address) {
    this.settings = settings;
    this.address = address;
    this.consul = ConsulClients.create(address, settings.token(), settings.requestTimeout());
    this.scheduler =
        Executors.newSingleThreadScheduledExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "chassis-consul-registration");
              thread.setDaemon(true);
              return thread;
            });
  }

  /**
   * A registry for the agent in {@code settings}.
   *
   * @throws IllegalArgumentException when {@code settings} has no agent address
   */
  public static ConsulServiceRegistry create(ConsulSettings settings) {
    URI address = settings.address();
    if (address == null) {
      throw new IllegalArgumentException(
          "chassis.discovery.consul.address: missing (expected: the Consul agent's address)");
    }
    return new ConsulServiceRegistry(settings, address);
  }

  /**
   * The instance a server bound to {@code boundPort} registers as: the configured or detected
   * advertised address and port, the configured id or {@code <name>-<address>-<port>}, the
   * configured tags and metadata plus {@code version}.
   */
  public static ServiceInstance instanceFor(ChassisConfig config, int boundPort) {
    ConsulSettings.Registration registration = config.consul().registration();
    String host =
        registration.advertiseAddress() != null
            ? registration.advertiseAddress()
            : detectAddress(config.grpc().host());
    int port = registration.advertisePort() > 0 ? registration.advertisePort() : boundPort;
    String id =
        registration.id() != null
            ? registration.id()
            : (config.serviceName() + "-" + host + "-" + port).replaceAll("[^A-Za-z0-9._-]", "-");
    Map<String, String> meta = new LinkedHashMap<>();
    if (!config.serviceVersion().isBlank()) {
      meta.put("version", config.serviceVersion());
    }
    meta.putAll(registration.meta());
    return new ServiceInstance(
        id, config.serviceName(), host, port, registration.tags(), meta, config.tls().enabled());
  }

  /** The bind host unless it is a wildcard, else this host's first non-loopback IPv4 address. */
  static String detectAddress(String bindHost) {
    if (!bindHost.isBlank()
        && !bindHost.equals("0.0.0.0")
        && !bindHost.equals("::")
        && !bindHost.equals("[::]")) {
      return bindHost;
    }
    try {
      for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        if (!nic.isUp() || nic.isLoopback() || nic.isVirtual() || nic.isPointToPoint()) {
          continue;
        }
        for (InetAddress candidate : Collections.list(nic.getInetAddresses())) {
          if (candidate instanceof Inet4Address && !candidate.isLinkLocalAddress()) {
            return candidate.getHostAddress();
          }
        }
      }
    } catch (SocketException e) {
      logger.warn("cannot list network interfaces; advertising 127.0.0.1", e);
    }
    logger.warn(
        "no non-loopback IPv4 address found; advertising 127.0.0.1 (set"
            + " chassis.discovery.consul.registration.advertise-address)");
    return "127.0.0.1";
  }

  @Override
  public void register(ServiceInstance instance, BooleanSupplier serving) {
    Registration built = registration(instance);
    synchronized (lock) {
      if (registration != null) {
        throw new IllegalStateException("already registered " + registration.getId());
      }
      this.registration = built;
      this.checkId = checkId(instance);
      this.serving = serving;
    }
    ConsulSettings.Registration config = settings.registration();
    if (config.failFast()) {
      registerOrFail(config.failFastTimeout());
    } else {
      // Never on the caller's thread: a blackholed agent must not hold up the server's start.
      scheduler.execute(guarded("registration", this::attemptOrRetry));
    }
    long verify = config.verifyInterval().toMillis();
    schedulePeriodic("verification", this::verify, verify);
    if (settings.check().mode() == ConsulSettings.CheckMode.TTL) {
      schedulePeriodic(
          "TTL heartbeat", this::heartbeat, Math.max(1, settings.check().ttl().toMillis() / 3));
    }
  }

  private void schedulePeriodic(String what, Runnable task, long periodMillis) {
    synchronized (lock) {
      if (!stopped) {
        periodic.add(
            scheduler.scheduleWithFixedDelay(
                guarded(what, task), periodMillis, periodMillis, TimeUnit.MILLISECONDS));
      }
    }
  }

  /** A task that logs what it throws instead of silently ending its schedule. */
  private static Runnable guarded(String what, Runnable task) {
    return () -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        logger.error("Consul {} failed unexpectedly", what, e);
      }
    };
  }

  private void registerOrFail(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long remaining = deadline - System.nanoTime();
      Future<Boolean> attempt = scheduler.submit(this::attempt);
      try {
        if (attempt.get(Math.max(remaining, 1), TimeUnit.NANOSECONDS)) {
          return;
        }
        long delay =
            Math.min(backoffMillis(), TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
        if (delay <= 0) {
          break;
        }
        Thread.sleep(delay);
      } catch (TimeoutException e) {
        attempt.cancel(true);
        break;
      } catch (ExecutionException e) {
        throw new IllegalStateException("registering in Consul failed unexpectedly", e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        deregister();
        throw new IllegalStateException("interrupted while registering in Consul", e);
      }
    }
    deregister();
    throw new IllegalStateException(
        "could not register in Consul at "
            + address
            + " within "
            + timeout
            + " (chassis.discovery.consul.registration.fail-fast is on)");
  }

  private void attemptOrRetry() {
    if (!attempt()) {
      scheduleRetry();
    }
  }

  /**
   * One registration attempt, on the scheduler thread like every other Consul call, so attempts,
   * heartbeats and the final deregistration never overlap. On success in TTL mode the first
   * heartbeat is queued at once.
   */
  private boolean attempt() {
    Registration current;
    synchronized (lock) {
      current = registration;
      if (stopped || current == null) {
        return false;
      }
      attempted = true;
    }
    try {
      consul.agentClient().register(current);
    } catch (ConsulException e) {
      int failed;
      synchronized (lock) {
        failed = ++failures;
      }
      logger.warn(
          "registering {} in Consul at {} failed (attempt {}); retrying in the background: {}",
          current.getId(),
          address,
          failed,
          e.getMessage());
      return false;
    }
    int failed;
    synchronized (lock) {
      failed = failures;
      failures = 0;
      registered = true;
    }
    if (failed > 0) {
      logger.info("registered {} in Consul after {} failed attempts", current.getId(), failed);
    } else {
      logger.info(
          "registered {} in Consul at {}: {}:{} with a {} check",
          current.getId(),
          address,
          current.getAddress().orElse(""),
          current.getPort().orElse(0),
          settings.check().mode() == ConsulSettings.CheckMode.GRPC ? "GRPC" : "TTL");
    }
    if (settings.check().mode() == ConsulSettings.CheckMode.TTL) {
      scheduler.execute(guarded("TTL heartbeat", this::heartbeat));
    }
    return true;
  }

  private void scheduleRetry() {
    synchronized (lock) {
      if (stopped || retry != null && !retry.isDone()) {
        return;
      }
      retry =
          scheduler.schedule(
              guarded("registration retry", this::attemptOrRetryAfterRetry),
              backoffMillis(),
              TimeUnit.MILLISECONDS);
    }
  }

  private void attemptOrRetryAfterRetry() {
    synchronized (lock) {
      retry = null;
    }
    attemptOrRetry();
  }

  /** Exponential in the number of failures, capped, with jitter in [50%, 100%]. */
  private long backoffMillis() {
    ConsulSettings.Registration config = settings.registration();
    int failed;
    synchronized (lock) {
      failed = failures;
    }
    long ceiling = Backoff.ceiling(config.initialBackoff(), config.maxBackoff(), failed).toMillis();
    return Backoff.jittered(ceiling);
  }

  /** Re-registers when the agent no longer knows the instance (it restarted without state). */
  private void verify() {
    String id;
    synchronized (lock) {
      if (stopped || !registered || registration == null) {
        return; // a retry is pending, or we are done
      }
      id = registration.getId();
    }
    boolean known;
    try {
      known = consul.agentClient().isRegistered(id);
    } catch (ConsulException e) {
      logger.debug("cannot verify the registration of {} in Consul: {}", id, e.getMessage());
      return;
    }
    if (!known) {
      logger.warn("Consul at {} no longer knows {}; registering again", address, id);
      forgotten();
    }
  }

  private void forgotten() {
    synchronized (lock) {
      registered = false;
    }
    attemptOrRetry();
  }

  /** TTL mode: tells Consul whether the server is SERVING. */
  private void heartbeat() {
    String check;
    BooleanSupplier health;
    synchronized (lock) {
      if (stopped || !registered || checkId == null) {
        return;
      }
      check = checkId;
      health = serving;
    }
    boolean up = health.getAsBoolean();
    AgentClient agent = consul.agentClient();
    try {
      agent.check(check, up ? State.PASS : State.FAIL, up ? "SERVING" : "NOT_SERVING");
    } catch (NotRegisteredException e) {
      if (e.getCause() instanceof ConsulException cause
          && cause.hasCode()
          && cause.getCode() == 404) {
        logger.warn("Consul at {} no longer knows check {}; registering again", address, check);
        forgotten();
      } else {
        logger.warn("TTL heartbeat of {} to Consul failed: {}", check, messageOf(e));
      }
    }
  }

  private static String messageOf(Exception e) {
    return e.getCause() != null ? e.getCause().getMessage() : e.getMessage();
  }

  /**
   * Stops retries, verification and heartbeats, and removes the instance from the agent. Waits at
   * most {@code request-timeout} (plus a registration attempt already on the wire, which it must
   * not overtake); a deregistration that fails or takes longer is logged and Consul's check removes
   * the instance instead.
   */
  @Override
  public void deregister() {
    String id;
    synchronized (lock) {
      if (stopped) {
        return;
      }
      stopped = true;
      if (retry != null) {
        retry.cancel(false);
      }
      periodic.forEach(task -> task.cancel(false));
      if (!attempted || registration == null) {
        return;
      }
      id = registration.getId();
    }
    Future<?> deregistration;
    try {
      deregistration = scheduler.submit(() -> deregisterNow(id));
    } catch (RejectedExecutionException e) {
      logger.warn("cannot deregister {} from Consul: the registry is closed", id);
      return;
    }
    try {
      deregistration.get(settings.requestTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      logger.warn(
          "deregistering {} from Consul at {} takes longer than {}; going on with the drain,"
              + " Consul's check will remove it",
          id,
          address,
          settings.requestTimeout());
    } catch (ExecutionException e) {
      logger.error("deregistering {} from Consul failed unexpectedly", id, e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      logger.warn("interrupted while deregistering {} from Consul", id);
    }
  }

  private void deregisterNow(String id) {
    try {
      consul.agentClient().deregister(id);
      logger.info("deregistered {} from Consul at {}", id, address);
    } catch (ConsulException e) {
      if (e.hasCode() && e.getCode() == 404) {
        logger.info("{} was not registered in Consul at {} (any more)", id, address);
      } else {
        logger.warn(
            "deregistering {} from Consul at {} failed; Consul's check will remove it: {}",
            id,
            address,
            e.getMessage());
      }
    }
  }

  @Override
  public void close() {
    deregister();
    scheduler.shutdownNow();
    consul.destroy();
  }

  private static String checkId(ServiceInstance instance) {
    return "service:" + instance.id();
  }

  private Registration registration(ServiceInstance instance) {
    ConsulSettings.Check check = settings.check();
    ImmutableRegCheck.Builder regCheck =
        ImmutableRegCheck.builder()
            .id(checkId(instance))
            .deregisterCriticalServiceAfter(goDuration(check.deregisterCriticalAfter()));
    if (check.mode() == ConsulSettings.CheckMode.GRPC) {
      regCheck
          .name("gRPC health")
          .grpc(hostPort(instance.address(), instance.port()))
          .grpcUseTls(instance.tls())
          .interval(goDuration(check.interval()))
          .timeout(goDuration(check.timeout()));
      if (instance.tls() && check.tlsSkipVerify()) {
        regCheck.tlsSkipVerify(true);
      }
    } else {
      regCheck.name("TTL heartbeat").ttl(goDuration(check.ttl()));
    }
    return ImmutableRegistration.builder()
        .id(instance.id())
        .name(instance.name())
        .address(instance.address())
        .port(instance.port())
        .tags(instance.tags())
        .meta(instance.meta())
        .addChecks(regCheck.build())
        .build();
  }

  /** {@code host:port}, with brackets around an IPv6 literal. */
  static String hostPort(String host, int port) {
    return (host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port;
  }

  /** Go's duration syntax, which Consul parses: {@code 5s}, {@code 1500ms}. */
  static String goDuration(Duration duration) {
    long millis = duration.toMillis();
    return millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
  }
}
