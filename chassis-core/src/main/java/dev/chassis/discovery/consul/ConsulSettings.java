package dev.chassis.discovery.consul;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Consul settings ({@code chassis.discovery.consul.*}), validated by {@link
 * dev.chassis.ChassisConfig#consul()}. Immutable.
 *
 * @param address the agent, such as {@code http://127.0.0.1:8500}; null: Consul is off
 * @param token ACL token sent with every request; null: none
 * @param requestTimeout timeout of one request; blocking queries get {@code watchWait +
 *     watchWait/16 + 2s} instead
 * @param registration how this server registers itself
 * @param check the health check Consul keeps on the registration
 * @param watchWait longest wait of one blocking query of the {@code consul:} resolver (whole
 *     seconds)
 * @param errorInitialBackoff the resolver's first retry delay after a failed query
 * @param errorMaxBackoff the resolver's longest retry delay
 */
public record ConsulSettings(
    @Nullable URI address,
    @Nullable String token,
    Duration requestTimeout,
    Registration registration,
    Check check,
    Duration watchWait,
    Duration errorInitialBackoff,
    Duration errorMaxBackoff) {

  /** Like the record's, with the token redacted. */
  @Override
  public String toString() {
    return "ConsulSettings[address="
        + address
        + ", token="
        + (token == null ? "none" : "<redacted>")
        + ", requestTimeout="
        + requestTimeout
        + ", registration="
        + registration
        + ", check="
        + check
        + ", watchWait="
        + watchWait
        + "]";
  }

  /** Whether an agent address is configured. */
  public boolean enabled() {
    return address != null;
  }

  /**
   * Registration settings ({@code chassis.discovery.consul.registration.*}).
   *
   * @param enabled false: never register, only discover
   * @param id instance id; null: {@code <service>-<address>-<port>}
   * @param advertiseAddress address others connect to; null: detected
   * @param advertisePort port others connect to; 0: the bound port
   * @param tags Consul tags
   * @param meta Consul service metadata
   * @param failFast whether {@code start()} fails when the first registration does not succeed
   *     within {@code failFastTimeout}
   * @param failFastTimeout how long start-up retries in fail-fast mode
   * @param initialBackoff first retry delay after a failed registration
   * @param maxBackoff longest retry delay
   * @param verifyInterval how often the agent is asked whether it still knows the instance
   */
  public record Registration(
      boolean enabled,
      @Nullable String id,
      @Nullable String advertiseAddress,
      int advertisePort,
      List<String> tags,
      Map<String, String> meta,
      boolean failFast,
      Duration failFastTimeout,
      Duration initialBackoff,
      Duration maxBackoff,
      Duration verifyInterval) {
    /** Copies the collections. */
    public Registration {
      tags = List.copyOf(tags);
      meta = Map.copyOf(meta);
    }
  }

  /** How Consul learns whether the instance is healthy. */
  public enum CheckMode {
    /** Consul calls the server's {@code grpc.health.v1.Health/Check} every interval. */
    GRPC,
    /** The server reports its health to Consul every {@code ttl / 3}. */
    TTL
  }

  /**
   * Health check settings ({@code chassis.discovery.consul.check.*}).
   *
   * @param mode GRPC or TTL
   * @param interval GRPC check period
   * @param timeout GRPC check timeout
   * @param tlsSkipVerify whether Consul's GRPC check skips verifying the server certificate when
   *     the port serves TLS
   * @param ttl TTL mode: how long Consul waits for a heartbeat before marking the check critical
   * @param deregisterCriticalAfter Consul removes an instance critical this long
   */
  public record Check(
      CheckMode mode,
      Duration interval,
      Duration timeout,
      boolean tlsSkipVerify,
      Duration ttl,
      Duration deregisterCriticalAfter) {}
}
