package dev.chassis;

import dev.chassis.client.ChassisChannelBuilder;
import dev.chassis.server.ChassisServer;

/**
 * Entry points: a server builder and a channel builder, both driven by {@link ChassisConfig}.
 *
 * <pre>{@code
 * ChassisConfig config = ChassisConfig.load();
 * ChassisServer server = Chassis.server(config)
 *     .addService(new UserServiceHandler(repository))
 *     .readinessCheck("database", repository::ping)
 *     .start();
 * ManagedChannel users = Chassis.channel(config, "user-service").build();
 * server.awaitTermination();
 * }</pre>
 */
public final class Chassis {
  private Chassis() {}

  /** A server builder; same as {@link ChassisServer#newBuilder(ChassisConfig)}. */
  public static ChassisServer.Builder server(ChassisConfig config) {
    return ChassisServer.newBuilder(config);
  }

  /**
   * A channel builder for {@code serviceName}, configured by {@code chassis.clients."serviceName"};
   * same as {@link ChassisChannelBuilder#forService(ChassisConfig, String)}.
   */
  public static ChassisChannelBuilder channel(ChassisConfig config, String serviceName) {
    return ChassisChannelBuilder.forService(config, serviceName);
  }
}
