package dev.chassis.sample.user;

import dev.chassis.Chassis;
import dev.chassis.ChassisConfig;
import dev.chassis.sample.user.client.UserClient;
import dev.chassis.sample.user.handler.UserServiceHandler;
import dev.chassis.sample.user.repository.DatabaseSettings;
import dev.chassis.sample.user.repository.InMemoryUserRepository;
import dev.chassis.sample.user.repository.JdbcUserRepository;
import dev.chassis.sample.user.repository.UserRepository;
import dev.chassis.server.ChassisServer;
import dev.chassis.server.LifecycleListener;
import java.util.List;
import java.util.Optional;
import org.slf4j.LoggerFactory;

/**
 * Starts the user service. This is all the wiring a Chassis service needs:
 *
 * <ol>
 *   <li>load the configuration (defaults, {@code application.conf}, environment, {@code -D});
 *   <li>build the repository and the handler;
 *   <li>start the server with a readiness check per dependency;
 *   <li>wait: SIGTERM drains in-flight calls and exits with status 0.
 * </ol>
 *
 * <p>{@code java -jar sample-user-service.jar --demo} also runs the bundled client against the
 * service once it is up, to show it answering.
 */
public final class UserServiceMain {
  private UserServiceMain() {}

  public static void main(String[] args) throws Exception {
    // 1. Configuration. Invalid values stop here with a message naming the key.
    ChassisConfig config = ChassisConfig.load();

    // 2. The repository: PostgreSQL when USER_DB_URL is set (the pool is opened and the schema
    // migrated here; an unreachable database stops start-up), else in memory, so the service runs
    // with no database server.
    Optional<DatabaseSettings> database = DatabaseSettings.from(config.raw());
    UserRepository repository =
        database.isPresent()
            ? JdbcUserRepository.connect(database.get())
            : new InMemoryUserRepository();

    // 3. The server: health, reflection, metrics, JSON logs and the error model come with it. The
    // readiness check pings the database: while it is down, /health/ready is 503 and gRPC health
    // NOT_SERVING, and both recover by themselves when it returns.
    ChassisServer server =
        Chassis.server(config)
            .addService(new UserServiceHandler(repository))
            .readinessCheck(database.isPresent() ? "database" : "repository", repository::ping)
            // With CHASSIS_GRPC_WEB_PORT set, browsers call the service over gRPC-Web, and the demo
            // page (the official grpc-web client) is served at / on that port.
            .grpcWebResources("grpc-web-demo")
            .lifecycleListener(
                new LifecycleListener() {
                  @Override
                  public void onStopped(ChassisServer stopped) {
                    if (repository instanceof AutoCloseable closeable) {
                      closeQuietly(closeable);
                    }
                  }
                })
            .start();

    if (List.of(args).contains("--demo")) {
      // Call ourselves through Chassis.channel, the way another service would.
      ChassisConfig client =
          config.with(
              "chassis.clients.user-service.target = \"static:///127.0.0.1:"
                  + server.port()
                  + "\"");
      UserClient.demo(client, System.out);
    }

    // 4. Serve until SIGTERM (or Ctrl-C); the drain runs before this returns.
    server.awaitTermination();
  }

  private static void closeQuietly(AutoCloseable resource) {
    try {
      resource.close();
    } catch (Exception e) {
      LoggerFactory.getLogger(UserServiceMain.class).warn("closing {} failed", resource, e);
    }
  }
}
