package dev.chassis.sample.user.handler;

import static dev.chassis.testing.GrpcAssertions.assertThatGrpc;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.chassis.sample.user.repository.JdbcUserRepository;
import dev.chassis.sample.user.repository.PostgresServer;
import dev.chassis.sample.user.v1.CreateUserRequest;
import dev.chassis.sample.user.v1.GetUserRequest;
import dev.chassis.sample.user.v1.ImportUsersResponse;
import dev.chassis.sample.user.v1.User;
import dev.chassis.sample.user.v1.UserServiceGrpc;
import dev.chassis.testing.ChassisServerExtension;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The handler on PostgreSQL, behind the production interceptor chain, with readiness. */
class PostgresHandlerTest {
  private static final String SERVICE = "user.v1.UserService";
  private static PostgresServer postgres;
  private static JdbcUserRepository repository;

  @RegisterExtension
  final ChassisServerExtension server =
      ChassisServerExtension.newBuilder(
              builder ->
                  builder
                      .addService(new UserServiceHandler(repository))
                      .readinessCheck("database", repository::ping))
          .config("chassis { service.name = user-service, health.check-interval = 100ms }")
          .build();

  @BeforeAll
  static void startPostgres() {
    postgres = PostgresServer.start();
    repository = JdbcUserRepository.connect(postgres.quickSettings());
  }

  @AfterAll
  static void stopPostgres() {
    repository.close();
    postgres.close();
  }

  @BeforeEach
  void emptyTable() throws Exception {
    execute("DELETE FROM users");
  }

  @Test
  void duplicateEmailInAnyCase_isAlreadyExists() {
    users().createUser(create("Ada", "ada@example.com"));

    assertThatGrpc(() -> users().createUser(create("Ada Again", "ADA@EXAMPLE.com")))
        .failsWith(Status.Code.ALREADY_EXISTS)
        .hasMessage("a user with email ADA@EXAMPLE.com already exists");
  }

  @Test
  void databaseDown_readinessAndCallsTurnUnavailableWithoutSql_thenRecover() {
    User ada = users().createUser(create("Ada", "ada@example.com"));
    GetUserRequest get = GetUserRequest.newBuilder().setId(ada.getId()).build();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> health() == HealthCheckResponse.ServingStatus.SERVING);

    postgres.stop();
    try {
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> health() == HealthCheckResponse.ServingStatus.NOT_SERVING);
      assertThatGrpc(() -> users().getUser(get))
          .failsWith(Status.Code.UNAVAILABLE)
          .hasMessage("the user database is unavailable; retry later")
          .hasRetryDelay(Duration.ofSeconds(1))
          .doesNotExpose("SQL", "postgres", "jdbc", "Connection", "127.0.0.1");
    } finally {
      postgres.startAgain();
    }

    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> health() == HealthCheckResponse.ServingStatus.SERVING);
    assertThat(users().getUser(get)).isEqualTo(ada);
  }

  @Test
  void controlCharacters_areInvalidArgumentNotADatabaseError() {
    assertThatGrpc(() -> users().createUser(create("Ada\u0000", "ada@example.com")))
        .failsWith(Status.Code.INVALID_ARGUMENT)
        .hasBadRequestViolation("name", "must not contain control characters");
  }

  @Test
  void unexpectedDatabaseError_isInternalWithTheGenericMessage() throws Exception {
    User ada = users().createUser(create("Ada", "ada@example.com"));
    execute("ALTER TABLE users RENAME TO users_gone");
    try {
      assertThatGrpc(() -> users().getUser(GetUserRequest.newBuilder().setId(ada.getId()).build()))
          .failsWith(Status.Code.INTERNAL)
          .hasMessage("failed to fetch user")
          .doesNotExpose("SQL", "42P01", "relation", "users_gone", "postgres");
    } finally {
      execute("ALTER TABLE users_gone RENAME TO users");
    }
  }

  @Test
  void importUsers_tenThousandRows_inOrderWithPerRowErrorsAndBoundedBuffering() throws Exception {
    int rows = 10_000;
    List<ImportUsersResponse> responses = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger sent = new AtomicInteger();
    AtomicInteger received = new AtomicInteger();
    AtomicBoolean completed = new AtomicBoolean();
    AtomicLong mostOutstanding = new AtomicLong();
    CompletableFuture<Status> done = new CompletableFuture<>();
    UserServiceGrpc.newStub(server.channel())
        .withDeadlineAfter(120, TimeUnit.SECONDS)
        .importUsers(
            new ClientResponseObserver<CreateUserRequest, ImportUsersResponse>() {
              @Override
              public void beforeStart(ClientCallStreamObserver<CreateUserRequest> requests) {
                // Send as fast as the call lets us: only flow control holds the client back.
                requests.setOnReadyHandler(
                    () -> {
                      while (requests.isReady() && sent.get() < rows) {
                        requests.onNext(row(sent.getAndIncrement()));
                        mostOutstanding.accumulateAndGet(sent.get() - received.get(), Math::max);
                      }
                      if (sent.get() == rows && completed.compareAndSet(false, true)) {
                        requests.onCompleted();
                      }
                    });
              }

              @Override
              public void onNext(ImportUsersResponse response) {
                responses.add(response);
                received.incrementAndGet();
              }

              @Override
              public void onError(Throwable t) {
                done.complete(Status.fromThrowable(t));
              }

              @Override
              public void onCompleted() {
                done.complete(Status.OK);
              }
            });

    assertThat(done.get(120, TimeUnit.SECONDS).isOk()).isTrue();
    assertThat(responses).hasSize(rows);
    for (int i = 0; i < rows; i++) {
      ImportUsersResponse response = responses.get(i);
      if (i % 100 == 99) {
        assertThat(response.getError().getCode()).as("row %d", i).isEqualTo(3); // INVALID_ARGUMENT
      } else if (i % 250 == 249) {
        assertThat(response.getError().getCode()).as("row %d", i).isEqualTo(6); // ALREADY_EXISTS
      } else {
        assertThat(response.getUser().getEmail()).as("row %d", i).isEqualTo(email(i));
      }
    }
    // The server reads a row only once it could answer the previous one, so what is in flight
    // stays small however many rows there are.
    assertThat(mostOutstanding.get()).isLessThan(100);
  }

  /** Row i; every 100th has an invalid email, every 250th repeats row 0's in other case. */
  private static CreateUserRequest row(int i) {
    if (i % 100 == 99) {
      return create("Row " + i, "not-an-email");
    }
    if (i % 250 == 249) {
      return create("Row " + i, email(0).toUpperCase(Locale.ROOT));
    }
    return create("Row " + i, email(i));
  }

  private static String email(int i) {
    return "row" + i + "@example.com";
  }

  private HealthCheckResponse.ServingStatus health() {
    return HealthGrpc.newBlockingStub(server.channel())
        .withDeadlineAfter(5, TimeUnit.SECONDS)
        .check(HealthCheckRequest.newBuilder().setService(SERVICE).build())
        .getStatus();
  }

  private UserServiceGrpc.UserServiceBlockingStub users() {
    return UserServiceGrpc.newBlockingStub(server.channel())
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private static CreateUserRequest create(String name, String email) {
    return CreateUserRequest.newBuilder().setName(name).setEmail(email).build();
  }

  private static void execute(String sql) throws Exception {
    try (Connection connection = DriverManager.getConnection(postgres.jdbcUrl(), "postgres", "");
        Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }
}
