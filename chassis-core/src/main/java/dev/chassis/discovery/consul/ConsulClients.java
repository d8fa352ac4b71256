package dev.chassis.discovery.consul;

import java.net.URI;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.kiwiproject.consul.Consul;

/** Builds consul-client instances the way Chassis uses them. */
final class ConsulClients {
  private ConsulClients() {}

  /**
   * A client whose requests time out after {@code requestTimeout}, except blocking queries (those
   * with {@code wait=}): consul-client gives them a read timeout of {@code wait + wait/16 + 2s}.
   * The token goes in the {@code X-Consul-Token} header, never in the URL, where proxies and access
   * logs would keep it.
   */
  static Consul create(URI address, @Nullable String token, Duration requestTimeout) {
    Consul.Builder builder =
        Consul.builder()
            .withUrl(address.toString())
            .withConnectTimeoutMillis(requestTimeout.toMillis())
            .withReadTimeoutMillis(requestTimeout.toMillis())
            .withWriteTimeoutMillis(requestTimeout.toMillis());
    if (token != null) {
      builder.withTokenAuth(token);
    }
    return builder.build();
  }
}
