package dev.chassis.health;

/**
 * Tells whether a dependency the service needs (a database, a downstream service) can be used now.
 *
 * <p>Checks run on a Chassis thread every {@code chassis.health.check-interval} (default 5 s),
 * never on a request path. A check that returns {@code false}, throws, or takes longer than {@code
 * chassis.health.check-timeout} (default 2 s) fails: readiness turns 503 and the gRPC health status
 * of the overall server and every service turns {@code NOT_SERVING} until it passes again.
 *
 * <pre>{@code
 * Chassis.server(config)
 *     .addService(handler)
 *     .readinessCheck("database", repository::ping)
 *     .start();
 * }</pre>
 */
@FunctionalInterface
public interface ReadinessCheck {
  /**
   * Returns whether the dependency is usable. May block up to the check timeout.
   *
   * @throws Exception treated as a failed check; the message is logged, not exposed
   */
  boolean isReady() throws Exception;
}
