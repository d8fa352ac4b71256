package dev.chassis.discovery.consul;

import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.kiwiproject.consul.Consul;

/**
 * Builds consul-client instances, and shares one per agent and token among the resolvers of a
 * process: each instance owns an HTTP connection pool and dispatcher threads.
 */
final class ConsulClients {
  private record Key(URI address, @Nullable String token) {}

  private static final class Shared {
    final Consul consul;
    int users;

    Shared(Consul consul) {
      this.consul = consul;
    }
  }

  private static final Map<Key, Shared> shared = new HashMap<>();

  private ConsulClients() {}

  /**
   * A client whose plain requests time out after {@code requestTimeout}. Blocking queries (those
   * with {@code wait=}) get their wait on top: consul-client raises their read timeout itself.
   */
  static Consul create(URI address, @Nullable String token, Duration requestTimeout) {
    Consul.Builder builder =
        Consul.builder()
            .withUrl(address.toString())
            .withConnectTimeoutMillis(requestTimeout.toMillis())
            .withReadTimeoutMillis(requestTimeout.toMillis())
            .withWriteTimeoutMillis(requestTimeout.toMillis());
    if (token != null) {
      builder.withAclToken(token);
    }
    return builder.build();
  }

  /** A shared client; give it back with {@link #release}. */
  static synchronized Consul acquire(URI address, @Nullable String token, Duration timeout) {
    Shared entry =
        shared.computeIfAbsent(
            new Key(address, token), key -> new Shared(create(address, token, timeout)));
    entry.users++;
    return entry.consul;
  }

  /** Gives back a client from {@link #acquire}; the last user destroys it. */
  static synchronized void release(Consul consul) {
    for (Map.Entry<Key, Shared> entry : shared.entrySet()) {
      Shared value = entry.getValue();
      if (value.consul == consul) {
        if (--value.users == 0) {
          shared.remove(entry.getKey());
          consul.destroy();
        }
        return;
      }
    }
    throw new IllegalStateException("release of a Consul client that was not acquired");
  }
}
