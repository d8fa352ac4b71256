package dev.chassis;

/**
 * Thrown when a configuration value is missing or invalid. The message names the key, the value
 * (and where it came from, such as an environment variable) and what was expected, for example
 * {@code chassis.grpc.port: 70000 from env var CHASSIS_GRPC_PORT (expected: an integer in
 * 0..65535)}.
 */
public final class ChassisConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates an exception with the given complete message. */
  public ChassisConfigException(String message) {
    super(message);
  }

  /** Creates an exception with the given complete message and the library error behind it. */
  public ChassisConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
