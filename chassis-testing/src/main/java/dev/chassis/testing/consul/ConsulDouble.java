package dev.chassis.testing.consul;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * An in-process Consul agent for tests: it serves Consul's HTTP API on a real loopback socket, so
 * the production Consul client talks to it unchanged, and it behaves like a single-node {@code
 * consul agent -dev} for the endpoints a gRPC service uses to register itself, report health and
 * discover others.
 *
 * <pre>{@code
 * try (ConsulDouble consul = ConsulDouble.start()) {
 *   startServiceUnderTest(consul.address());       // e.g. as CONSUL_HTTP_ADDR
 *   await().until(() -> consul.instances("user-service").size() == 1);
 *
 *   consul.setCheckStatus("service:user-service-1", "critical", "simulated outage");
 *   consul.advanceTime(Duration.ofMinutes(2));    // let TTLs expire and the reaper run
 *   consul.stopServing();                         // Consul went away...
 *   consul.resumeServing();                       // ...and came back on the same port
 * }
 * }</pre>
 *
 * <p>What it serves, with Consul's status codes, error texts, headers and JSON shapes: {@code PUT
 * /v1/agent/service/register} (also {@code ?replace-existing-checks}), {@code
 * /v1/agent/service/deregister/:id}, {@code /v1/agent/service/maintenance/:id}, {@code
 * /v1/agent/check/pass|warn|fail|update/:id}; {@code GET /v1/health/service/:name} and {@code
 * /v1/catalog/service/:name} with {@code passing}, {@code tag}, {@code node-meta}, {@code dc},
 * consistency modes and blocking queries ({@code index}, {@code wait}, {@code X-Consul-Index});
 * {@code GET /v1/agent/services}, {@code /v1/agent/service/:id} (hash blocking), {@code
 * /v1/agent/checks}, {@code /v1/agent/self}, {@code /v1/status/leader}, {@code /v1/status/peers}.
 * KV, ACLs, {@code ?filter} expressions (answered 400), namespaces and Connect are not served.
 *
 * <p>Health follows Consul: checks start {@code critical} unless registered with a {@code Status};
 * TTL checks expire to {@code critical}; gRPC, HTTP and TCP checks are run for real (gRPC probing
 * can be turned off with {@link Builder#grpcChecks}); {@code ?passing} drops an instance when any
 * of its checks, the node's {@code serfHealth} included, is not exactly {@code passing}. As in
 * Consul, a change of check status is visible to health queries at once, while a change of output
 * alone reaches them only minutes later (on the virtual clock). The {@code /v1/agent/*} endpoints
 * and the inspection methods here show the agent's own, always current view.
 *
 * <p>TTL expiry, {@code DeregisterCriticalServiceAfter} reaping and that output write-back run on a
 * virtual clock that follows real time and that {@link #advanceTime} moves forward. Blocking
 * queries wait in real time.
 *
 * <p>Thread-safe. {@link #close()} stops serving, stops running checks and releases the port.
 */
public final class ConsulDouble implements AutoCloseable {

  private final ConsulAgent agent;
  private final ApiHandler handler;
  private final ExecutorService httpExecutor;
  private final int port;
  private final Object serverLock = new Object();
  private @Nullable HttpServer server;
  private boolean closed;

  private ConsulDouble(ConsulAgent.Settings settings) {
    this.agent = new ConsulAgent(settings);
    this.handler = new ApiHandler(agent);
    AtomicInteger threads = new AtomicInteger();
    // Unbounded: every blocked long-poll holds a thread, and none may starve another request.
    this.httpExecutor =
        Executors.newCachedThreadPool(
            runnable -> {
              Thread thread =
                  new Thread(runnable, "consul-double-http-" + threads.incrementAndGet());
              thread.setDaemon(true);
              return thread;
            });
    try {
      this.server = listen(0);
    } catch (IOException e) {
      agent.close();
      httpExecutor.shutdownNow();
      throw new UncheckedIOException("cannot listen on 127.0.0.1", e);
    }
    this.port = server.getAddress().getPort();
  }

  /** Starts a double with the defaults on {@code 127.0.0.1} and a free port. */
  public static ConsulDouble start() {
    return newBuilder().start();
  }

  /** A builder for a double with non-default settings. */
  public static Builder newBuilder() {
    return new Builder();
  }

  /**
   * The agent's base URL, e.g. {@code http://127.0.0.1:41234}: what CONSUL_HTTP_ADDR would hold.
   */
  public URI address() {
    return URI.create("http://127.0.0.1:" + port);
  }

  /** The port the double listens on; it stays the same across {@link #resumeServing()}. */
  public int port() {
    return port;
  }

  // ---------------------------------------------------------------------------------------------
  // Inspection

  /**
   * The registered instances of a service (name matched case-insensitively, as Consul's catalog
   * does), ordered by ID, each with its own checks; a snapshot of the agent's view.
   */
  public List<Instance> instances(String serviceName) {
    return agent.instances(Objects.requireNonNull(serviceName, "serviceName"));
  }

  /** The registered instance with this service ID, if any. */
  public Optional<Instance> instance(String serviceId) {
    return agent.instance(Objects.requireNonNull(serviceId, "serviceId"));
  }

  /** A registered check by ID (service checks and maintenance checks, not {@code serfHealth}). */
  public Optional<Check> check(String checkId) {
    return agent.check(Objects.requireNonNull(checkId, "checkId"));
  }

  /**
   * Every HTTP request received, oldest first; the last 10,000 are kept. Requests answered by
   * {@link #failNext} are included.
   */
  public List<RecordedRequest> requests() {
    return handler.requests();
  }

  /** The current raft index: raised by every catalog write, never by a no-op. */
  public long index() {
    return agent.index();
  }

  // ---------------------------------------------------------------------------------------------
  // Test hooks (not reachable over HTTP)

  /**
   * Sets a check's status and output as if the check had reported it (for a TTL check, like {@code
   * PUT /v1/agent/check/update}, which also restarts its TTL). Works for every kind of check; a
   * probed check is overwritten by its next run unless probing is off.
   *
   * @param status {@code passing}, {@code warning} or {@code critical}
   * @throws IllegalArgumentException if the status is not one of those or no such check exists
   */
  public void setCheckStatus(String checkId, String status, String output) {
    requireStatus(status, true);
    agent.setCheckStatus(
        Objects.requireNonNull(checkId, "checkId"),
        status,
        Objects.requireNonNull(output, "output"));
  }

  /**
   * Sets the node's {@code serfHealth} check; {@code critical} drops every instance from {@code
   * ?passing} results and wakes every health watcher.
   *
   * @param status {@code passing} or {@code critical}
   */
  public void setNodeHealth(String status) {
    requireStatus(status, false);
    agent.setNodeHealth(status);
  }

  /**
   * Moves the virtual clock forward and at once runs the TTL expiries, reaper rounds (every {@link
   * Builder#reapInterval}) and deferred output write-backs that fell due.
   *
   * @throws IllegalArgumentException if {@code amount} is negative
   */
  public void advanceTime(Duration amount) {
    if (amount.isNegative()) {
      throw new IllegalArgumentException("amount: " + amount + " (expected: >= 0)");
    }
    agent.advanceTime(amount);
  }

  /**
   * Simulates an agent restart that lost its state: every service and check is gone and the raft
   * index falls back to its initial low value, so clients see {@code X-Consul-Index} go backwards.
   * Connections stay up; combine with {@link #stopServing()} to drop them too.
   */
  public void forgetEverything() {
    agent.forgetEverything();
  }

  /**
   * "Consul went away": closes the listening socket (new connections are refused), drops open
   * connections and aborts every blocked query (clients see an I/O error). State is kept and checks
   * keep running. Does nothing if already stopped.
   */
  public void stopServing() {
    synchronized (serverLock) {
      if (server == null) {
        return;
      }
      agent.abortBlockedQueries();
      server.stop(0);
      server = null;
    }
  }

  /**
   * Listens again on the same port with the kept state. Does nothing if serving.
   *
   * @throws UncheckedIOException if the port was taken meanwhile
   * @throws IllegalStateException if the double is closed
   */
  public void resumeServing() {
    synchronized (serverLock) {
      if (closed) {
        throw new IllegalStateException("the Consul double is closed");
      }
      if (server != null) {
        return;
      }
      try {
        server = listen(port);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot listen on 127.0.0.1:" + port + " again", e);
      }
    }
  }

  /**
   * Answers the next request whose decoded path starts with {@code pathPrefix} with this status and
   * plain-text body instead of serving it. Queued answers are used once each, in order.
   */
  public void failNext(String pathPrefix, int status, String body) {
    if (status < 100 || status > 599) {
      throw new IllegalArgumentException("status: " + status + " (expected: 100-599)");
    }
    handler.failNext(
        Objects.requireNonNull(pathPrefix, "pathPrefix"),
        status,
        Objects.requireNonNull(body, "body"));
  }

  /**
   * Leaves {@code X-Consul-Index} out of health and catalog responses, the hazard that makes a
   * client that trusts the header send {@code index=0} and poll in a busy loop.
   */
  public void omitIndexHeader(boolean omit) {
    handler.omitIndexHeader(omit);
  }

  /** Stops serving, stops all checks and releases the port. Idempotent. */
  @Override
  public void close() {
    synchronized (serverLock) {
      if (closed) {
        return;
      }
      closed = true;
      agent.abortBlockedQueries();
      if (server != null) {
        server.stop(0);
        server = null;
      }
    }
    agent.close();
    httpExecutor.shutdownNow();
  }

  private HttpServer listen(int listenPort) throws IOException {
    HttpServer created =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), listenPort), 0);
    created.createContext("/", handler);
    created.setExecutor(httpExecutor);
    created.start();
    return created;
  }

  private static void requireStatus(String status, boolean warningAllowed) {
    boolean valid =
        ConsulAgent.PASSING.equals(status)
            || ConsulAgent.CRITICAL.equals(status)
            || (warningAllowed && ConsulAgent.WARNING.equals(status));
    if (!valid) {
      throw new IllegalArgumentException(
          "status: "
              + status
              + (warningAllowed
                  ? " (expected: passing, warning or critical)"
                  : " (expected: passing or critical)"));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Values

  /**
   * A registered service instance as the agent holds it.
   *
   * @param id the service ID ({@code Name} when registered without one)
   * @param service the service name
   * @param address the registered address, {@code ""} when none was given
   * @param tags the tags, empty when none
   * @param meta the metadata, empty when none
   * @param checks the instance's own checks, ordered by ID
   */
  public record Instance(
      String id,
      String service,
      String address,
      int port,
      List<String> tags,
      Map<String, String> meta,
      List<Check> checks) {

    /** Copies the collections. */
    public Instance {
      tags = List.copyOf(tags);
      meta = Map.copyOf(meta);
      checks = List.copyOf(checks);
    }
  }

  /**
   * A registered check as the agent holds it (status and output always current).
   *
   * @param checkId the check ID, e.g. {@code service:greeter-1}
   * @param serviceId the owning service ID
   * @param type {@code ttl}, {@code grpc}, {@code http}, {@code tcp}, {@code maintenance}, ...
   * @param status {@code passing}, {@code warning} or {@code critical}
   * @param notes the registered notes (the reason for a maintenance check)
   * @param interval the run interval of an interval check, else {@code null}
   * @param timeout the registered timeout, {@code null} when the default applies
   * @param ttl the TTL of a TTL check, else {@code null}
   * @param grpc the gRPC target {@code host:port[/service]} of a gRPC check, else {@code null}
   * @param grpcUseTls whether the gRPC check uses TLS
   * @param deregisterCriticalServiceAfter as registered (before raising it to the minimum), or
   *     {@code null}
   */
  public record Check(
      String checkId,
      String name,
      String serviceId,
      String type,
      String status,
      String output,
      String notes,
      @Nullable Duration interval,
      @Nullable Duration timeout,
      @Nullable Duration ttl,
      @Nullable String grpc,
      boolean grpcUseTls,
      @Nullable Duration deregisterCriticalServiceAfter) {}

  /**
   * One HTTP request as received.
   *
   * @param method the HTTP method
   * @param path the percent-decoded path, which Consul routes on ({@code %2F} is {@code /})
   * @param rawPath the path as sent
   * @param rawQuery the query string as sent, {@code ""} when none
   * @param body the body as UTF-8, {@code ""} when none
   * @param token the ACL token from {@code ?token=}, {@code X-Consul-Token} or a bearer header
   * @param at when the request arrived
   */
  public record RecordedRequest(
      String method,
      String path,
      String rawPath,
      String rawQuery,
      String body,
      @Nullable String token,
      Instant at) {}

  /**
   * Settings of a {@link ConsulDouble}; each setter validates its argument at once. Defaults are
   * Consul's.
   */
  public static final class Builder {
    private boolean grpcChecks = true;
    private Duration reapInterval = Duration.ofSeconds(30);
    private Duration minDeregisterCriticalServiceAfter = Duration.ofMinutes(1);
    private Duration maxQueryTime = Duration.ofMinutes(10);
    private Duration defaultQueryTime = Duration.ofMinutes(5);
    private boolean jitter = true;
    private boolean strictRegistration = true;
    private String nodeName = "consul-double";
    private String datacenter = "dc1";

    private Builder() {}

    /**
     * Whether gRPC checks are run for real against their target (default {@code true}); when {@code
     * false} they keep their registered status until {@link ConsulDouble#setCheckStatus} changes
     * it.
     */
    public Builder grpcChecks(boolean probe) {
      this.grpcChecks = probe;
      return this;
    }

    /** How often the reaper looks for services to deregister; default 30 s, as Consul's. */
    public Builder reapInterval(Duration interval) {
      this.reapInterval = positive("reapInterval", interval);
      return this;
    }

    /**
     * The smallest {@code DeregisterCriticalServiceAfter} honoured; smaller values are raised to it
     * with a warning. Default 1 min, as Consul's.
     */
    public Builder minDeregisterCriticalServiceAfter(Duration minimum) {
      this.minDeregisterCriticalServiceAfter =
          positive("minDeregisterCriticalServiceAfter", minimum);
      return this;
    }

    /** The longest a blocking query waits, whatever its {@code wait}; default 10 min. */
    public Builder maxQueryTime(Duration max) {
      this.maxQueryTime = positive("maxQueryTime", max);
      return this;
    }

    /** How long a blocking query without {@code wait} waits; default 5 min. */
    public Builder defaultQueryTime(Duration wait) {
      this.defaultQueryTime = positive("defaultQueryTime", wait);
      return this;
    }

    /**
     * Whether blocking queries wait up to {@code wait/16} longer, randomly, as Consul's do (default
     * {@code true}).
     */
    public Builder jitter(boolean on) {
      this.jitter = on;
      return this;
    }

    /**
     * Whether request bodies with keys Consul does not define are rejected with 400 {@code Request
     * decode failed: json: unknown field "<Key>"} (default {@code true}). That is what Consul 1.7
     * and later do, and it catches typos such as {@code DeregisterCriticalServiceAfterr}; {@code
     * false} ignores unknown keys, as older agents did.
     */
    public Builder strictRegistration(boolean strict) {
      this.strictRegistration = strict;
      return this;
    }

    /** The node name in API output; default {@code consul-double}. */
    public Builder nodeName(String name) {
      this.nodeName = nonEmpty("nodeName", name);
      return this;
    }

    /** The datacenter; any other {@code ?dc=} fails as in Consul. Default {@code dc1}. */
    public Builder datacenter(String dc) {
      this.datacenter = nonEmpty("datacenter", dc);
      return this;
    }

    /**
     * Starts the double on {@code 127.0.0.1} and a free port.
     *
     * @throws UncheckedIOException if it cannot listen
     */
    public ConsulDouble start() {
      return new ConsulDouble(
          new ConsulAgent.Settings(
              grpcChecks,
              reapInterval,
              minDeregisterCriticalServiceAfter,
              maxQueryTime,
              defaultQueryTime,
              jitter,
              strictRegistration,
              nodeName,
              datacenter));
    }

    private static Duration positive(String name, Duration value) {
      Objects.requireNonNull(value, name);
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
      }
      return value;
    }

    private static String nonEmpty(String name, String value) {
      Objects.requireNonNull(value, name);
      if (value.isEmpty()) {
        throw new IllegalArgumentException(name + ": \"\" (expected: not empty)");
      }
      return value;
    }
  }
}
