package dev.chassis.discovery;

import java.util.function.BooleanSupplier;

/**
 * Where a {@link dev.chassis.server.ChassisServer} announces itself. Chassis uses {@link
 * dev.chassis.discovery.consul.ConsulServiceRegistry} when Consul is configured; implement this to
 * register elsewhere and pass it to {@code ChassisServer.Builder#serviceRegistry}.
 *
 * <p>The server calls {@link #register} once it listens and its health is published, {@link
 * #deregister} as the first step of its drain, and {@link #close} after it stopped, each once and
 * from one thread at a time.
 */
public interface ServiceRegistry extends AutoCloseable {
  /**
   * Announces {@code instance}. Should return quickly: retry failures in the background unless
   * configured to fail fast, in which case throw to fail the server's start.
   *
   * @param serving whether the server currently serves (SERVING health); for registries that are
   *     told the health rather than probing it
   */
  void register(ServiceInstance instance, BooleanSupplier serving);

  /** Withdraws the instance and stops background work; bounded in time, never throws. */
  void deregister();

  /** Releases resources. */
  @Override
  void close();
}
