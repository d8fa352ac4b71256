package dev.chassis.sample.user;

import static dev.chassis.testing.GrpcAssertions.assertThatGrpc;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.chassis.sample.user.repository.PostgresServer;
import dev.chassis.sample.user.v1.CreateUserRequest;
import dev.chassis.sample.user.v1.GetUserRequest;
import dev.chassis.sample.user.v1.User;
import dev.chassis.sample.user.v1.UserServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar on a real PostgreSQL ({@code USER_DB_URL}): a Node.js client drives every
 * method, users survive a restart, and a database outage shows in readiness and as UNAVAILABLE,
 * then heals by itself.
 */
class SamplePostgresProcessIT {
  private PostgresServer postgres;
  private SampleJar jar;

  @BeforeEach
  void startPostgres() {
    postgres = PostgresServer.start();
  }

  @AfterEach
  void stopEverything() {
    if (jar != null) {
      jar.close();
    }
    postgres.close();
  }

  @Test
  void nodeClient_everyMethodOnPostgres(@TempDir Path protos) throws Exception {
    jar = SampleJar.start(database());

    NodeE2eClient.driveEveryMethod(jar.grpcPort(), protos);
  }

  @Test
  void usersSurviveARestart_andADatabaseOutageIsUnavailableThenHeals() throws Exception {
    jar = SampleJar.start(database());
    User ada;
    try (Client client = new Client(jar.grpcPort())) {
      ada = client.users.createUser(create("Ada Lovelace", "ada@example.com"));
    }
    assertThat(jar.terminate()).isZero();

    jar = SampleJar.start(database());
    GetUserRequest get = GetUserRequest.newBuilder().setId(ada.getId()).build();
    try (Client client = new Client(jar.grpcPort())) {
      assertThat(client.users.getUser(get)).isEqualTo(ada);
      assertThatGrpc(() -> client.users.createUser(create("Ada", "ADA@example.com")))
          .failsWith(Status.Code.ALREADY_EXISTS);

      postgres.stop();
      await()
          .atMost(Duration.ofSeconds(15))
          .until(() -> jar.get("/health/ready").statusCode() == 503);
      HttpResponse<String> notReady = jar.get("/health/ready");
      assertThat(notReady.body()).contains("\"failing\":[\"database\"]");
      assertThatGrpc(() -> client.users.getUser(get))
          .failsWith(Status.Code.UNAVAILABLE)
          .hasMessage("the user database is unavailable; retry later")
          .doesNotExpose("SQL", "postgres", "jdbc", "Connection");

      postgres.startAgain();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> jar.get("/health/ready").statusCode() == 200);
      assertThat(client.users.getUser(get)).isEqualTo(ada);
    }
    assertThat(jar.log).noneMatch(line -> line.contains(PASSWORD) || line.contains(URL_SECRET));
  }

  // The embedded server trusts local connections and ignores both; they must never be logged.
  private static final String PASSWORD = "pw-" + java.util.UUID.randomUUID();
  private static final String URL_SECRET = "url-" + java.util.UUID.randomUUID();

  private Map<String, String> database() {
    return Map.of(
        "USER_DB_URL",
        postgres.jdbcUrl() + "?password=" + URL_SECRET,
        "USER_DB_USER",
        "postgres",
        "USER_DB_PASSWORD",
        PASSWORD);
  }

  private static CreateUserRequest create(String name, String email) {
    return CreateUserRequest.newBuilder().setName(name).setEmail(email).build();
  }

  /** A plain channel to the jar. */
  private static final class Client implements AutoCloseable {
    final ManagedChannel channel;
    final UserServiceGrpc.UserServiceBlockingStub users;

    Client(int port) {
      channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
      users = UserServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
      channel.shutdownNow();
    }
  }
}
