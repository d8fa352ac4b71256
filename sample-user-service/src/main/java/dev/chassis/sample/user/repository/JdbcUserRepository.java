package dev.chassis.sample.user.repository;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.sql.SQLTransientConnectionException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.jspecify.annotations.Nullable;
import org.postgresql.util.PSQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Users in PostgreSQL, through a HikariCP pool; the schema comes from Flyway migrations in {@code
 * db/migration}. The database enforces what must hold under concurrency: a unique index on {@code
 * lower(email)} makes exactly one of concurrent creates with one email win.
 *
 * <p>Errors: a connection that cannot be had or is lost (SQLSTATE class 08, the pool's timeout, a
 * server shutting down or refusing connections) throws {@link RepositoryUnavailableException};
 * anything else {@link RepositoryException}. Both keep the driver's message and SQL for the log
 * only. Thread-safe.
 */
public final class JdbcUserRepository implements UserRepository, AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(JdbcUserRepository.class);
  private static final String COLUMNS = "id, name, email, create_time";
  private static final String EMAIL_INDEX = "users_email_lower_key";

  /** Longest a single statement may wait on the network. */
  static final int QUERY_TIMEOUT_SECONDS = 10;

  private final HikariDataSource pool;
  private final Clock clock;

  private JdbcUserRepository(HikariDataSource pool, Clock clock) {
    this.pool = pool;
    this.clock = clock;
  }

  /**
   * Opens the pool and migrates the schema to the latest version.
   *
   * @throws RepositoryException when the database cannot be reached or migrated
   */
  public static JdbcUserRepository connect(DatabaseSettings settings) {
    return connect(settings, Clock.systemUTC());
  }

  static JdbcUserRepository connect(DatabaseSettings settings, Clock clock) {
    HikariConfig config = new HikariConfig();
    config.setPoolName("user-db");
    config.setJdbcUrl(settings.url());
    if (settings.user() != null) {
      config.setUsername(settings.user());
    }
    if (settings.password() != null) {
      config.setPassword(settings.password());
    }
    config.setMaximumPoolSize(settings.poolSize());
    config.setConnectionTimeout(settings.connectionTimeout().toMillis());
    // Validation and a dead connection's replacement must fit in the caller's wait.
    config.setValidationTimeout(Math.max(250, settings.connectionTimeout().toMillis() / 2));
    // A query on a connection whose peer vanished must not hang until TCP gives up (minutes).
    config.addDataSourceProperty("socketTimeout", QUERY_TIMEOUT_SECONDS);
    HikariDataSource pool;
    try {
      pool = new HikariDataSource(config);
    } catch (RuntimeException e) {
      // The driver's message may quote the URL, password parameters included: mask it.
      String reason = String.valueOf(e.getMessage()).replace(settings.url(), settings.maskedUrl());
      throw new RepositoryUnavailableException(
          "cannot connect to " + settings + ": " + e.getClass().getSimpleName() + ": " + reason,
          null);
    }
    try {
      migrate(pool);
    } catch (RuntimeException e) {
      pool.close();
      throw new RepositoryException("cannot migrate the schema of " + settings, e);
    }
    logger.info("using PostgreSQL {}", settings);
    return new JdbcUserRepository(pool, clock);
  }

  private static void migrate(DataSource dataSource) {
    var result =
        Flyway.configure()
            .dataSource(dataSource)
            .locations("classpath:db/migration")
            .load()
            .migrate();
    logger.info(
        "database schema at version {} ({} migrations applied now)",
        result.targetSchemaVersion,
        result.migrationsExecuted);
  }

  @Override
  public UserRecord create(String name, String email) {
    UUID id = UUID.randomUUID();
    Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS); // PostgreSQL's precision
    try (Connection connection = connection();
        PreparedStatement insert =
            connection.prepareStatement(
                "INSERT INTO users (" + COLUMNS + ") VALUES (?, ?, ?, ?)")) {
      insert.setObject(1, id);
      insert.setString(2, name);
      insert.setString(3, email);
      insert.setTimestamp(4, Timestamp.from(now));
      insert.executeUpdate();
      return new UserRecord(id, name, email, now);
    } catch (SQLException e) {
      if ("23505".equals(e.getSQLState()) && violates(e, EMAIL_INDEX)) {
        throw new EmailAlreadyUsedException(email); // unique_violation: lower(email) is taken
      }
      throw translate("create a user", e);
    }
  }

  @Override
  public Optional<UserRecord> find(UUID id) {
    try (Connection connection = connection();
        PreparedStatement select =
            connection.prepareStatement("SELECT " + COLUMNS + " FROM users WHERE id = ?")) {
      select.setObject(1, id);
      try (ResultSet rows = select.executeQuery()) {
        return rows.next() ? Optional.of(read(rows)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw translate("find a user", e);
    }
  }

  @Override
  public List<UserRecord> list(@Nullable UUID after, int limit) {
    // Keyset pagination on the primary key: an index range scan, stable under inserts and
    // deletes, unlike OFFSET. PostgreSQL orders uuids like their lowercase string forms.
    String sql =
        after == null
            ? "SELECT " + COLUMNS + " FROM users ORDER BY id LIMIT ?"
            : "SELECT " + COLUMNS + " FROM users WHERE id > ? ORDER BY id LIMIT ?";
    try (Connection connection = connection();
        PreparedStatement select = connection.prepareStatement(sql)) {
      int parameter = 1;
      if (after != null) {
        select.setObject(parameter++, after);
      }
      select.setInt(parameter, limit);
      List<UserRecord> page = new ArrayList<>(Math.min(limit, 1000));
      try (ResultSet rows = select.executeQuery()) {
        while (rows.next()) {
          page.add(read(rows));
        }
      }
      return page;
    } catch (SQLException e) {
      throw translate("list users", e);
    }
  }

  @Override
  public boolean delete(UUID id) {
    try (Connection connection = connection();
        PreparedStatement delete = connection.prepareStatement("DELETE FROM users WHERE id = ?")) {
      delete.setObject(1, id);
      return delete.executeUpdate() > 0;
    } catch (SQLException e) {
      throw translate("delete a user", e);
    }
  }

  /** Whether a pooled connection answers within the pool's connection timeout. */
  @Override
  public boolean ping() {
    try (Connection connection = connection()) {
      if (connection.isValid(1)) {
        return true;
      }
      // A failed isValid does not retire the connection by itself; without this, the next ping
      // could get the same dead connection back and fail after the database returned.
      pool.evictConnection(connection);
      return false;
    } catch (SQLException e) {
      logger.debug("database ping failed: {}", e.toString());
      return false;
    }
  }

  /** Closes the pool. */
  @Override
  public void close() {
    pool.close();
  }

  private Connection connection() throws SQLException {
    return pool.getConnection();
  }

  private static UserRecord read(ResultSet row) throws SQLException {
    return new UserRecord(
        row.getObject("id", UUID.class),
        row.getString("name"),
        row.getString("email"),
        row.getTimestamp("create_time").toInstant());
  }

  private static boolean violates(SQLException e, String constraint) {
    return e instanceof PSQLException psql
        && psql.getServerErrorMessage() != null
        && constraint.equals(psql.getServerErrorMessage().getConstraint());
  }

  /** The exception for a failed {@code action}, keeping the driver's text for the log only. */
  static RepositoryException translate(String action, SQLException e) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    boolean unavailable =
        e instanceof SQLTransientConnectionException // includes HikariCP's pool timeout
            || e instanceof SQLTimeoutException
            || state.startsWith("08") // connection exception
            || state.equals("57014") // query_canceled: the socket or statement timeout
            || state.equals("25006") // read_only_sql_transaction: failed over to a standby
            || state.startsWith("53") // insufficient resources (disk, memory, connections)
            || state.equals("57P01") // admin_shutdown
            || state.equals("57P02") // crash_shutdown
            || state.equals("57P03"); // cannot_connect_now
    String message = "cannot " + action + " (SQLSTATE " + state + ")";
    return unavailable
        ? new RepositoryUnavailableException(message, e)
        : new RepositoryException(message, e);
  }
}
