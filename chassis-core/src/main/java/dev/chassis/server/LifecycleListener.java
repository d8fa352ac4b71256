package dev.chassis.server;

/**
 * Hooks into a {@link ChassisServer}'s lifecycle, for example to register in and deregister from a
 * service registry. Methods run on the thread that starts or drains the server; an exception is
 * logged and does not stop the lifecycle.
 */
public interface LifecycleListener {
  /** The server is listening and its health is published. */
  default void onStarted(ChassisServer server) {}

  /**
   * The drain began: readiness is already 503 and health NOT_SERVING; the server still serves for
   * {@code chassis.shutdown.drain-delay}. Deregister from registries here.
   */
  default void onDraining(ChassisServer server) {}

  /** The server stopped; every call finished or was cancelled. Release resources here. */
  default void onStopped(ChassisServer server) {}
}
