package dev.chassis.benchmarks;

import java.util.Locale;

/**
 * The server's concurrency limiting in one run: off, or a {@code chassis.limits.concurrency} mode
 * with its numbers. Written on the command line as {@code off}, {@code fixed[:LIMIT]}, {@code
 * gradient2[:LIMIT:MIN:MAX]} or {@code vegas[:LIMIT:MIN:MAX]}.
 *
 * @param kind off, or the Chassis mode
 * @param limit the fixed limit, or the adaptive modes' initial limit
 * @param min the adaptive modes' {@code min-limit}
 * @param max the adaptive modes' {@code max-limit}
 */
record LimitSetting(Kind kind, int limit, int min, int max) {
  /** Initial, minimum and maximum limit of adaptive modes written without numbers. */
  static final int DEFAULT_ADAPTIVE_LIMIT = 20;

  static final int DEFAULT_ADAPTIVE_MIN = 4;
  static final int DEFAULT_ADAPTIVE_MAX = 200;

  /** Off, or one of the modes of {@code chassis.limits.concurrency.mode}. */
  enum Kind {
    OFF,
    FIXED,
    GRADIENT2,
    VEGAS
  }

  LimitSetting {
    if (kind != Kind.OFF && !(0 < min && min <= limit && limit <= max)) {
      throw new IllegalArgumentException(
          "expected 0 < min <= limit <= max, got " + limit + ":" + min + ":" + max);
    }
  }

  /**
   * Parses {@code off}, {@code fixed[:LIMIT]}, {@code gradient2[:LIMIT:MIN:MAX]} or {@code
   * vegas[:LIMIT:MIN:MAX]}.
   *
   * @param handlerThreads the limit of a {@code fixed} written without one
   * @throws IllegalArgumentException when {@code spec} is none of those
   */
  static LimitSetting parse(String spec, int handlerThreads) {
    String[] parts = spec.trim().split(":", -1);
    Kind kind;
    try {
      kind = Kind.valueOf(parts[0].toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          spec
              + ": expected off, fixed[:LIMIT], gradient2[:LIMIT:MIN:MAX] or vegas[:LIMIT:MIN:MAX]",
          e);
    }
    try {
      return switch (kind) {
        case OFF -> {
          requireParts(spec, parts, 1);
          yield new LimitSetting(Kind.OFF, 0, 0, 0);
        }
        case FIXED -> {
          requireParts(spec, parts, 1, 2);
          int limit = parts.length == 2 ? Integer.parseInt(parts[1]) : handlerThreads;
          yield new LimitSetting(Kind.FIXED, limit, limit, limit);
        }
        case GRADIENT2, VEGAS -> {
          requireParts(spec, parts, 1, 4);
          yield parts.length == 1
              ? new LimitSetting(
                  kind, DEFAULT_ADAPTIVE_LIMIT, DEFAULT_ADAPTIVE_MIN, DEFAULT_ADAPTIVE_MAX)
              : new LimitSetting(
                  kind,
                  Integer.parseInt(parts[1]),
                  Integer.parseInt(parts[2]),
                  Integer.parseInt(parts[3]));
        }
      };
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(spec + ": not a number", e);
    }
  }

  private static void requireParts(String spec, String[] parts, int... allowed) {
    for (int count : allowed) {
      if (parts.length == count) {
        return;
      }
    }
    throw new IllegalArgumentException(spec + ": wrong number of ':'-separated values");
  }

  /** Whether calls can be rejected by the concurrency limit. */
  boolean enabled() {
    return kind != Kind.OFF;
  }

  /** The body of the {@code chassis.limits.concurrency} section. */
  String hocon() {
    if (kind == Kind.OFF) {
      return "enabled = false";
    }
    return String.format(
        Locale.ROOT,
        "enabled = true, mode = %s, limit = %d, min-limit = %d, max-limit = %d",
        kind,
        limit,
        min,
        max);
  }

  /** How the setting is shown in the tables, such as {@code GRADIENT2 20 (4..200)}. */
  String label() {
    return switch (kind) {
      case OFF -> "off";
      case FIXED -> "FIXED " + limit;
      case GRADIENT2, VEGAS -> kind + " " + limit + " (" + min + ".." + max + ")";
    };
  }
}
