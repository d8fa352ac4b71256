package dev.chassis.sample.user.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link JdbcUserRepository} against a real PostgreSQL, with the production migrations. */
class JdbcUserRepositoryTest {
  private static PostgresServer postgres;
  private JdbcUserRepository repository;

  @BeforeAll
  static void startPostgres() {
    postgres = PostgresServer.start();
  }

  @AfterAll
  static void stopPostgres() {
    postgres.close();
  }

  @BeforeEach
  void connect() throws Exception {
    repository = JdbcUserRepository.connect(postgres.settings());
    execute("DELETE FROM users");
  }

  @AfterEach
  void close() {
    repository.close();
  }

  @Test
  void createFindDelete_roundTrip() {
    UserRecord created = repository.create("Ada Lovelace", "ada@example.com");

    assertThat(repository.find(created.id())).contains(created);
    assertThat(repository.delete(created.id())).isTrue();
    assertThat(repository.find(created.id())).isEmpty();
    assertThat(repository.delete(created.id())).isFalse();
  }

  @Test
  void duplicateEmail_inAnyCase_isRejectedByTheDatabase() {
    repository.create("Ada", "ada@example.com");

    assertThatThrownBy(() -> repository.create("Ada Again", "ADA@Example.COM"))
        .isInstanceOf(EmailAlreadyUsedException.class);
  }

  @Test
  void concurrentCreatesWithOneEmail_exactlyOneWins() throws Exception {
    int writers = 16;
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<Boolean>> results = new ArrayList<>();
    try {
      for (int i = 0; i < writers; i++) {
        String email = (i % 2 == 0 ? "grace@example.com" : "GRACE@example.com");
        String name = "Grace " + i;
        Callable<Boolean> create =
            () -> {
              start.await();
              try {
                repository.create(name, email);
                return true;
              } catch (EmailAlreadyUsedException e) {
                return false;
              }
            };
        results.add(pool.submit(create));
      }
      start.countDown();
      int winners = 0;
      for (Future<Boolean> result : results) {
        winners += result.get(30, TimeUnit.SECONDS) ? 1 : 0;
      }
      assertThat(winners).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
    assertThat(repository.list(null, 100)).hasSize(1);
  }

  @Test
  void list_isKeysetPaginatedInIdOrder() {
    for (int i = 0; i < 25; i++) {
      repository.create("User " + i, "user" + i + "@example.com");
    }
    List<UUID> ids = new ArrayList<>();
    UUID after = null;
    while (true) {
      List<UserRecord> page = repository.list(after, 10);
      page.forEach(user -> ids.add(user.id()));
      if (page.size() < 10) {
        break;
      }
      after = page.get(page.size() - 1).id();
    }

    assertThat(ids).hasSize(25).doesNotHaveDuplicates();
    List<String> asText = ids.stream().map(UUID::toString).toList();
    assertThat(asText).isSortedAccordingTo(String::compareTo);
  }

  @Test
  void usersSurviveANewPoolAndRepeatedMigrations() {
    UserRecord created = repository.create("Ada", "ada@example.com");
    repository.close();

    repository = JdbcUserRepository.connect(postgres.settings());

    assertThat(repository.find(created.id())).contains(created);
  }

  @Test
  void brokenSchema_isARepositoryExceptionWithoutBeingUnavailable() throws Exception {
    execute("ALTER TABLE users RENAME TO users_gone");
    try {
      assertThatThrownBy(() -> repository.find(UUID.randomUUID()))
          .isInstanceOf(RepositoryException.class)
          .isNotInstanceOf(RepositoryUnavailableException.class)
          .hasMessage("cannot find a user (SQLSTATE 42P01)");
      assertThat(repository.ping()).isTrue();
    } finally {
      execute("ALTER TABLE users_gone RENAME TO users");
    }
  }

  @Test
  void databaseDown_pingFailsAndCallsAreUnavailable_thenBothRecover() {
    repository.close();
    repository = JdbcUserRepository.connect(postgres.quickSettings());
    UserRecord created = repository.create("Ada", "ada@example.com");

    postgres.stop();
    try {
      assertThat(repository.ping()).isFalse();
      assertThatThrownBy(() -> repository.find(created.id()))
          .isInstanceOf(RepositoryUnavailableException.class);
    } finally {
      postgres.startAgain();
    }

    // The pool replaces its dead connections by itself.
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(30))
        .until(repository::ping);
    assertThat(repository.find(created.id())).contains(created);
  }

  private static void execute(String sql) throws Exception {
    try (Connection connection = DriverManager.getConnection(postgres.jdbcUrl(), "postgres", "");
        Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }
}
