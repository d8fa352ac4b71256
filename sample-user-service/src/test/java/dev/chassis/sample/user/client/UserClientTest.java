package dev.chassis.sample.user.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chassis.Chassis;
import dev.chassis.ChassisConfig;
import dev.chassis.sample.user.handler.UserServiceHandler;
import dev.chassis.sample.user.repository.InMemoryUserRepository;
import dev.chassis.server.ChassisServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The command-line client against a real Netty server on loopback, through Chassis.channel. */
class UserClientTest {
  private ChassisServer server;
  private ChassisConfig clientConfig;

  @BeforeEach
  void start() throws Exception {
    ChassisConfig config =
        ChassisConfig.of(
            """
            chassis {
              service.name = user-service
              grpc { host = 127.0.0.1, port = 0 }
              admin.port = -1
              shutdown { drain-delay = 0s, handle-signals = false }
            }
            """);
    server =
        Chassis.server(config)
            .addService(new UserServiceHandler(new InMemoryUserRepository()))
            .start();
    clientConfig =
        config.with(
            "chassis.clients.user-service.target = \"static:///127.0.0.1:%d\""
                .formatted(server.port()));
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void createThenGet_printsTheUserAsJson() throws Exception {
    Result created = run("create", "Ada Lovelace", "ada@example.com");
    String id = created.output().replaceAll("(?s).*\"id\":\"([^\"]+)\".*", "$1").trim();

    Result fetched = run("get", id);

    assertThat(created.status()).isZero();
    assertThat(fetched.status()).isZero();
    assertThat(fetched.output()).contains("\"name\":\"Ada Lovelace\"").contains(id);
  }

  @Test
  void failedCall_printsStatusAndViolationsAndReturnsOne() throws Exception {
    Result invalid = run("create", "", "nope");
    Result missing = run("get", "00000000-0000-0000-0000-000000000000");

    assertThat(invalid.status()).isEqualTo(1);
    assertThat(invalid.output())
        .startsWith("INVALID_ARGUMENT")
        .contains("name: must not be empty")
        .contains("email: must be a valid email address");
    assertThat(missing.status()).isEqualTo(1);
    assertThat(missing.output()).startsWith("NOT_FOUND: user 00000000");
  }

  @Test
  void demo_showsSuccessesAndEveryErrorCase() throws Exception {
    Result demo = run("demo");

    assertThat(demo.status()).isZero();
    assertThat(demo.output())
        .contains("\"name\":\"Ada Lovelace\"")
        .contains("NOT_FOUND:")
        .contains("INVALID_ARGUMENT:")
        .contains("ALREADY_EXISTS:");
  }

  @Test
  void import_streamsStdinRowsAndPrintsOneLinePerRowInOrder() throws Exception {
    StringBuilder input = new StringBuilder();
    for (int i = 0; i < 300; i++) {
      input.append("User ").append(i).append(", user").append(i).append("@example.com\n");
    }
    input.append("Nobody, not-an-email\n").append("Again, USER0@example.com\n");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    int status =
        UserClient.run(
            clientConfig,
            List.of("import"),
            new java.io.ByteArrayInputStream(input.toString().getBytes(StandardCharsets.UTF_8)),
            out);

    List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
    assertThat(status).isEqualTo(1);
    assertThat(lines).hasSize(302);
    assertThat(lines.get(0)).contains("\"email\":\"user0@example.com\"");
    assertThat(lines.get(299)).contains("\"email\":\"user299@example.com\"");
    assertThat(lines.get(300)).startsWith("row 301: INVALID_ARGUMENT:");
    assertThat(lines.get(301)).startsWith("row 302: ALREADY_EXISTS:");
  }

  private Result run(String... command) throws InterruptedException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    int status = UserClient.run(clientConfig, List.of(command), out);
    return new Result(status, bytes.toString(StandardCharsets.UTF_8));
  }

  private record Result(int status, String output) {}
}
