package dev.chassis.internal.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValue;
import dev.chassis.ChassisConfigException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Reads typed values from a Typesafe {@link Config} and turns every failure into a {@link
 * ChassisConfigException} naming the full key, the value, its origin and what was expected.
 *
 * <p>{@code prefix} is the absolute path of {@code config} so that messages name full keys even
 * when reading a sub-tree (for example one client's section).
 */
public final class ConfigReader {
  private final Config config;
  private final String prefix;

  private ConfigReader(Config config, String prefix) {
    this.config = config;
    this.prefix = prefix;
  }

  /** Reads from the root of {@code config}. */
  public static ConfigReader of(Config config) {
    return new ConfigReader(config, "");
  }

  /** Reads from a sub-tree whose absolute path is {@code prefix}. */
  public static ConfigReader of(Config config, String prefix) {
    return new ConfigReader(config, prefix);
  }

  public Config config() {
    return config;
  }

  public String key(String path) {
    return prefix.isEmpty() ? path : prefix + "." + path;
  }

  public boolean has(String path) {
    return config.hasPath(path);
  }

  public ConfigReader at(String path) {
    return new ConfigReader(config.getConfig(path), key(path));
  }

  public String string(String path) {
    try {
      return config.getString(path);
    } catch (ConfigException e) {
      throw invalid(path, "a string", e);
    }
  }

  public @Nullable String optionalString(String path) {
    if (!config.hasPath(path)) {
      return null;
    }
    String value = string(path).trim();
    return value.isEmpty() ? null : value;
  }

  public @Nullable Path optionalPath(String path) {
    String value = optionalString(path);
    return value == null ? null : Path.of(value);
  }

  public boolean bool(String path) {
    try {
      return config.getBoolean(path);
    } catch (ConfigException e) {
      throw invalid(path, "true or false", e);
    }
  }

  public int integer(String path, int min, int max) {
    String expected = "an integer in " + min + ".." + max;
    int value;
    try {
      value = config.getInt(path);
    } catch (ConfigException e) {
      throw invalid(path, expected, e);
    }
    if (value < min || value > max) {
      throw invalid(path, expected, null);
    }
    return value;
  }

  public double number(String path, double min, double max) {
    String expected = "a number in " + min + ".." + max;
    double value;
    try {
      value = config.getDouble(path);
    } catch (ConfigException e) {
      throw invalid(path, expected, e);
    }
    if (!(value >= min && value <= max)) {
      throw invalid(path, expected, null);
    }
    return value;
  }

  /** A port: 0 picks a free one; {@code allowDisabled} also accepts -1. */
  public int port(String path, boolean allowDisabled) {
    return integer(path, allowDisabled ? -1 : 0, 65535);
  }

  /** A size in bytes such as {@code 4 MiB}, within {@code 1..max}. */
  public int bytes(String path, int max) {
    String expected = "a size such as 4 MiB, from 1 byte to " + max + " bytes";
    long value;
    try {
      value = config.getBytes(path);
    } catch (ConfigException e) {
      throw invalid(path, expected, e);
    }
    if (value < 1 || value > max) {
      throw invalid(path, expected, null);
    }
    return (int) value;
  }

  /** A duration such as {@code 10s} or {@code 250ms}; zero only when {@code allowZero}. */
  public Duration duration(String path, boolean allowZero) {
    String expected = allowZero ? "a duration >= 0 such as 10s" : "a duration > 0 such as 10s";
    Duration value;
    try {
      value = config.getDuration(path);
    } catch (ConfigException e) {
      throw invalid(path, expected, e);
    }
    if (value.isNegative() || (!allowZero && value.isZero())) {
      throw invalid(path, expected, null);
    }
    return value;
  }

  public List<String> strings(String path) {
    try {
      return List.copyOf(config.getStringList(path));
    } catch (ConfigException e) {
      throw invalid(path, "a list of strings", e);
    }
  }

  /** An error for {@code path} saying what was expected. */
  public ChassisConfigException invalid(String path, String expected, @Nullable Throwable cause) {
    String message = key(path) + ": " + describe(path) + " (expected: " + expected + ")";
    return cause == null
        ? new ChassisConfigException(message)
        : new ChassisConfigException(message, cause);
  }

  private String describe(String path) {
    if (!config.hasPathOrNull(path)) {
      return "missing";
    }
    if (config.getIsNull(path)) {
      return "null";
    }
    ConfigValue value = config.getValue(path);
    String rendered = value.render().trim();
    String origin = value.origin().description();
    String lower = origin.toLowerCase(Locale.ROOT);
    // Typesafe describes system properties and our env overlay well; file origins add a line.
    return lower.contains("env var") || lower.contains("system propert")
        ? rendered + " from " + origin
        : rendered + " (" + origin + ")";
  }
}
