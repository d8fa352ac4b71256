package dev.chassis.discovery.consul;

import com.google.common.net.InetAddresses;
import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.Status;
import io.grpc.StatusOr;
import io.grpc.SynchronizationContext;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.kiwiproject.consul.Consul;
import org.kiwiproject.consul.async.ConsulResponseCallback;
import org.kiwiproject.consul.model.ConsulResponse;
import org.kiwiproject.consul.model.health.ServiceHealth;
import org.kiwiproject.consul.option.ImmutableQueryOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches {@code /v1/health/service/<name>?passing} with blocking queries and hands the passing
 * instances to grpc. All state lives in grpc's {@link SynchronizationContext}; HTTP runs on
 * consul-client's dispatcher, whose callbacks hop into the context.
 *
 * <p>Index handling follows Consul's advice for blocking clients: an index that went backwards (a
 * restarted agent) starts over with a non-blocking query, and an index below 1 counts as 1. After
 * an error the next query is non-blocking too, so a recovered agent is read at once. Errors back
 * off exponentially with jitter and keep the last addresses in use; a passing set that is empty is
 * reported as UNAVAILABLE, so grpc keeps connections that still work, fails new calls with a useful
 * message when none do, and re-resolves (an empty address list would do neither; grpc-java #5692).
 */
final class ConsulNameResolver extends NameResolver {
  private static final Logger logger = LoggerFactory.getLogger(ConsulNameResolver.class);

  /** Least time between the starts of two queries, so a chatty service cannot make us spin. */
  private static final long MIN_QUERY_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final String serviceName;
  private final List<String> tags;
  private final @Nullable String datacenter;
  private final URI agent;
  private final @Nullable String token;
  private final ConsulSettings settings;
  private final SynchronizationContext syncContext;
  private final ScheduledExecutorService scheduler;
  private final String authority;

  // All below only in syncContext.
  private @Nullable Listener2 listener;
  private @Nullable Consul consul;
  private boolean shutdown;
  private boolean queryInFlight;
  private SynchronizationContext.@Nullable ScheduledHandle nextQuery;
  private long index;
  private long lastQueryStartNanos;
  private int consecutiveErrors;
  private @Nullable List<InetSocketAddress> delivered;

  ConsulNameResolver(
      String serviceName,
      List<String> tags,
      @Nullable String datacenter,
      URI agent,
      @Nullable String token,
      ConsulSettings settings,
      Args args) {
    this.serviceName = serviceName;
    this.tags = List.copyOf(tags);
    this.datacenter = datacenter;
    this.agent = agent;
    this.token = token;
    this.settings = settings;
    this.syncContext = args.getSynchronizationContext();
    this.scheduler = args.getScheduledExecutorService();
    this.authority = serviceName;
  }

  @Override
  public String getServiceAuthority() {
    return authority;
  }

  @Override
  public void start(Listener2 listener) {
    syncContext.throwIfNotInThisSynchronizationContext();
    if (this.listener != null) {
      throw new IllegalStateException("already started");
    }
    this.listener = listener;
    // One client per resolver, so shutdown() can cancel its long poll (destroy cancels calls).
    this.consul = ConsulClients.create(agent, token, settings.requestTimeout());
    query();
  }

  /** grpc asks after errors and connection failures; the watch is already running, or due. */
  @Override
  public void refresh() {
    syncContext.throwIfNotInThisSynchronizationContext();
    if (!shutdown && !queryInFlight && nextQuery == null && listener != null) {
      query();
    }
  }

  @Override
  public void shutdown() {
    syncContext.throwIfNotInThisSynchronizationContext();
    if (shutdown) {
      return;
    }
    shutdown = true;
    if (nextQuery != null) {
      nextQuery.cancel();
      nextQuery = null;
    }
    if (consul != null) {
      consul.destroy(); // cancels the pending long poll and stops the client's threads
      consul = null;
    }
  }

  private void query() {
    Consul client = consul;
    if (shutdown || client == null) {
      return;
    }
    nextQuery = null;
    queryInFlight = true;
    lastQueryStartNanos = System.nanoTime();
    ImmutableQueryOptions.Builder options = ImmutableQueryOptions.builder().addAllTag(tags);
    if (datacenter != null) {
      options.datacenter(datacenter);
    }
    if (index > 0) {
      options.wait(settings.watchWait().toSeconds() + "s").index(BigInteger.valueOf(index));
    }
    try {
      client
          .healthClient()
          .getHealthyServiceInstances(
              serviceName,
              options.build(),
              new ConsulResponseCallback<>() {
                @Override
                public void onComplete(ConsulResponse<List<ServiceHealth>> response) {
                  // On consul-client's thread: turn entries into addresses here, where a host
                  // name lookup may block, then hand them to grpc's context. Nothing may escape:
                  // Retrofit would only print it, and the watch would never run again.
                  try {
                    List<InetSocketAddress> addresses = addresses(response.getResponse());
                    long responseIndex = indexOf(response);
                    syncContext.execute(() -> onResponse(addresses, responseIndex));
                  } catch (RuntimeException e) {
                    syncContext.execute(() -> onError(e));
                  }
                }

                @Override
                public void onFailure(Throwable error) {
                  syncContext.execute(() -> onError(error));
                }
              });
    } catch (RuntimeException e) {
      // Thrown in grpc's context, it would put the whole channel in panic mode.
      onError(e);
    }
  }

  private void onResponse(List<InetSocketAddress> addresses, long responseIndex) {
    queryInFlight = false;
    if (shutdown || listener == null) {
      return;
    }
    if (consecutiveErrors > 0) {
      logger.info("Consul at {} answers again for {}", agent, serviceName);
    }
    consecutiveErrors = 0;
    // Consul: an index that went backwards means the state was reset; start over.
    index = responseIndex < index ? 0 : Math.max(responseIndex, 1);
    if (!addresses.equals(delivered)) {
      deliver(addresses);
    }
    long sinceStart = System.nanoTime() - lastQueryStartNanos;
    schedule(Math.max(0, MIN_QUERY_INTERVAL_NANOS - sinceStart));
  }

  private void deliver(List<InetSocketAddress> addresses) {
    Listener2 current = listener;
    if (current == null) {
      return;
    }
    ResolutionResult.Builder result = ResolutionResult.newBuilder();
    if (addresses.isEmpty()) {
      result.setAddressesOrError(
          StatusOr.fromStatus(
              Status.UNAVAILABLE.withDescription(
                  "Consul at " + agent + " lists no passing instance of " + describe())));
    } else {
      List<EquivalentAddressGroup> groups = new ArrayList<>(addresses.size());
      for (InetSocketAddress address : addresses) {
        groups.add(new EquivalentAddressGroup(address));
      }
      result.setAddressesOrError(StatusOr.fromValue(groups));
    }
    delivered = addresses;
    logger.debug("{} resolved to {}", describe(), addresses);
    current.onResult2(result.build());
  }

  private void onError(Throwable error) {
    queryInFlight = false;
    if (shutdown || listener == null) {
      return;
    }
    consecutiveErrors++;
    // After a failure, do not trust the old index: the agent may have restarted.
    index = 0;
    long backoff = backoffNanos();
    if (consecutiveErrors == 1) {
      logger.warn(
          "Consul at {} failed to answer for {}; keeping the last {} addresses, retrying: {}",
          agent,
          serviceName,
          delivered == null ? "(none yet)" : delivered.size(),
          error.toString());
    } else {
      logger.debug("Consul query for {} failed again ({})", serviceName, error.toString());
    }
    if (delivered == null) {
      // Nothing resolved yet: fail calls with the reason instead of leaving them waiting.
      listener.onResult2(
          ResolutionResult.newBuilder()
              .setAddressesOrError(
                  StatusOr.fromStatus(
                      Status.UNAVAILABLE
                          .withDescription(
                              "cannot reach Consul at " + agent + " to resolve " + describe())
                          .withCause(error)))
              .build());
    }
    schedule(backoff);
  }

  private void schedule(long delayNanos) {
    if (delayNanos <= 0) {
      query();
      return;
    }
    nextQuery = syncContext.schedule(this::query, delayNanos, TimeUnit.NANOSECONDS, scheduler);
  }

  /** Doubles per consecutive error up to the maximum; jitter in [50%, 100%]. */
  private long backoffNanos() {
    return Backoff.jittered(
        Backoff.ceiling(
                settings.errorInitialBackoff(), settings.errorMaxBackoff(), consecutiveErrors)
            .toNanos());
  }

  private String describe() {
    StringBuilder description = new StringBuilder(serviceName);
    if (!tags.isEmpty()) {
      description.append(" with tags ").append(tags);
    }
    if (datacenter != null) {
      description.append(" in ").append(datacenter);
    }
    return description.toString();
  }

  private static long indexOf(ConsulResponse<?> response) {
    BigInteger value = response.getIndex();
    return value == null ? 0 : value.min(BigInteger.valueOf(Long.MAX_VALUE)).longValue();
  }

  /** Service.Address, or the node's address when the service registered none; sorted. */
  private List<InetSocketAddress> addresses(@Nullable List<ServiceHealth> entries) {
    List<InetSocketAddress> addresses = new ArrayList<>();
    if (entries == null) {
      return addresses;
    }
    for (ServiceHealth entry : entries) {
      String host = entry.getService().getAddress();
      if (host == null || host.isEmpty()) {
        host = entry.getNode().getAddress();
      }
      int port = entry.getService().getPort();
      try {
        InetAddress address =
            InetAddresses.isInetAddress(host)
                ? InetAddresses.forString(host)
                : InetAddress.getByName(host);
        InetSocketAddress socketAddress = new InetSocketAddress(address, port);
        if (!addresses.contains(socketAddress)) {
          addresses.add(socketAddress);
        }
      } catch (UnknownHostException e) {
        logger.warn(
            "skipping instance {} of {}: cannot resolve its address {}",
            entry.getService().getId(),
            serviceName,
            host,
            e);
      }
    }
    addresses.sort(
        (a, b) -> {
          int byHost = a.getAddress().getHostAddress().compareTo(b.getAddress().getHostAddress());
          return byHost != 0 ? byHost : Integer.compare(a.getPort(), b.getPort());
        });
    return addresses;
  }
}
