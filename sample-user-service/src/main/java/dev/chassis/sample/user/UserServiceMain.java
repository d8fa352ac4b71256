package dev.chassis.sample.user;

import dev.chassis.Chassis;
import dev.chassis.ChassisConfig;
import dev.chassis.sample.user.client.UserClient;
import dev.chassis.sample.user.handler.UserServiceHandler;
import dev.chassis.sample.user.repository.InMemoryUserRepository;
import dev.chassis.sample.user.repository.UserRepository;
import dev.chassis.server.ChassisServer;
import java.util.List;

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

    // 2. The repository: in memory, so the service runs with no database server.
    UserRepository repository = new InMemoryUserRepository();

    // 3. The server: health, reflection, metrics, JSON logs and the error model come with it.
    ChassisServer server =
        Chassis.server(config)
            .addService(new UserServiceHandler(repository))
            .readinessCheck("repository", repository::ping)
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
}
