package dev.chassis.sample.user.repository;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The PostgreSQL connection ({@code user.db.*} in {@code application.conf}, filled from {@code
 * USER_DB_URL}, {@code USER_DB_USER} and {@code USER_DB_PASSWORD}).
 *
 * @param url JDBC URL such as {@code jdbc:postgresql://db:5432/users}
 * @param user database user; null: from the URL or the driver's default
 * @param password password; null: none
 * @param poolSize most connections the pool opens
 * @param connectionTimeout how long a caller waits for a connection before the call fails with
 *     UNAVAILABLE
 */
public record DatabaseSettings(
    String url,
    @Nullable String user,
    @Nullable String password,
    int poolSize,
    Duration connectionTimeout) {

  /** The settings under {@code user.db}, or empty when {@code user.db.url} is not set. */
  public static Optional<DatabaseSettings> from(Config config) {
    Config db = config.getConfig("user.db");
    if (!db.hasPath("url") || db.getString("url").isBlank()) {
      return Optional.empty();
    }
    String url = db.getString("url").trim();
    if (!url.startsWith("jdbc:postgresql:")) {
      throw new IllegalArgumentException(
          "user.db.url (USER_DB_URL): expected a PostgreSQL JDBC URL such as"
              + " jdbc:postgresql://db:5432/users");
    }
    int poolSize = db.getInt("pool-size");
    if (poolSize < 1) {
      throw new IllegalArgumentException(
          "user.db.pool-size: " + poolSize + " (expected: 1 or more)");
    }
    Duration timeout = db.getDuration("connection-timeout");
    if (timeout.compareTo(Duration.ofMillis(250)) < 0) {
      throw new IllegalArgumentException(
          "user.db.connection-timeout: " + timeout + " (expected: at least 250ms)");
    }
    return Optional.of(
        new DatabaseSettings(
            url,
            db.hasPath("user") ? db.getString("user") : null,
            db.hasPath("password") ? db.getString("password") : null,
            poolSize,
            timeout));
  }

  /** The URL without its query string, which may carry a password. */
  public String maskedUrl() {
    return url.replaceFirst("\\?.*", "?...");
  }

  @Override
  public String toString() {
    // Never the password.
    return "DatabaseSettings{url="
        + maskedUrl()
        + ", user="
        + user
        + ", poolSize="
        + poolSize
        + "}";
  }
}
