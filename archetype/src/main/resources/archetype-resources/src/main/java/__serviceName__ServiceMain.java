package ${package};

import ${package}.handler.${serviceName}ServiceHandler;
import ${package}.repository.${serviceName}Repository;
import ${package}.repository.InMemory${serviceName}Repository;
import dev.chassis.Chassis;
import dev.chassis.ChassisConfig;
import dev.chassis.server.ChassisServer;
import java.io.IOException;

/** Starts the ${serviceName} service and serves until SIGTERM. */
public final class ${serviceName}ServiceMain {
  private ${serviceName}ServiceMain() {}

  /** Runs the service; SIGTERM drains in-flight calls, then the process exits with status 0. */
  public static void main(String[] args) throws Exception {
    // Defaults < application.conf < environment (CHASSIS_GRPC_PORT, ...) < -D properties.
    start(ChassisConfig.load()).awaitTermination();
  }

  /** Wires the repository and the handler into a started server; tests start it this way too. */
  public static ChassisServer start(ChassisConfig config) throws IOException {
    ${serviceName}Repository repository = new InMemory${serviceName}Repository();
    // Health, reflection, metrics, tracing, JSON logs, limits and the error model come with it.
    return Chassis.server(config)
        .addService(new ${serviceName}ServiceHandler(repository))
        .readinessCheck("repository", repository::ping)
        .start();
  }
}
