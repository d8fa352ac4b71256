package dev.chassis.resilience;

import java.util.Objects;

/**
 * How many calls a server handles at once, for {@link ServerLimits#concurrencyLimit}: a fixed
 * number, or a limit that adapts to measured latency between {@code minLimit} and {@code maxLimit}.
 * Immutable.
 *
 * @param mode fixed or adaptive, and which algorithm
 * @param limit the limit ({@link Mode#FIXED}) or the starting limit (adaptive modes), {@code > 0}
 * @param minLimit adaptive modes never go below it, {@code 1..limit}; {@link Mode#FIXED} ignores it
 * @param maxLimit adaptive modes never go above it, {@code >= limit}; {@link Mode#FIXED} ignores it
 */
public record ConcurrencyLimitSettings(Mode mode, int limit, int minLimit, int maxLimit) {

  /**
   * Validates the settings.
   *
   * @throws IllegalArgumentException unless {@code 0 < minLimit <= limit <= maxLimit}
   */
  public ConcurrencyLimitSettings {
    Objects.requireNonNull(mode, "mode");
    if (limit <= 0) {
      throw new IllegalArgumentException("limit: " + limit + " (expected: > 0)");
    }
    if (minLimit <= 0) {
      throw new IllegalArgumentException("minLimit: " + minLimit + " (expected: > 0)");
    }
    if (minLimit > limit) {
      throw new IllegalArgumentException(
          "minLimit: " + minLimit + " (expected: <= limit " + limit + ")");
    }
    if (maxLimit < limit) {
      throw new IllegalArgumentException(
          "maxLimit: " + maxLimit + " (expected: >= limit " + limit + ")");
    }
  }

  /** At most {@code limit} calls at once. */
  public static ConcurrencyLimitSettings fixed(int limit) {
    return new ConcurrencyLimitSettings(Mode.FIXED, limit, limit, limit);
  }

  /**
   * An adaptive limit (Netflix's Gradient2) starting at {@code initialLimit}, kept within {@code
   * minLimit..maxLimit}.
   */
  public static ConcurrencyLimitSettings gradient2(int initialLimit, int minLimit, int maxLimit) {
    return new ConcurrencyLimitSettings(Mode.GRADIENT2, initialLimit, minLimit, maxLimit);
  }

  /**
   * An adaptive limit (TCP Vegas style) starting at {@code initialLimit}, kept within {@code
   * minLimit..maxLimit}.
   */
  public static ConcurrencyLimitSettings vegas(int initialLimit, int minLimit, int maxLimit) {
    return new ConcurrencyLimitSettings(Mode.VEGAS, initialLimit, minLimit, maxLimit);
  }

  /** How the limit is set. */
  public enum Mode {
    /** A constant limit. */
    FIXED,
    /**
     * Adapts to the ratio of long-term to short-term latency of unary calls (concurrency-limits'
     * {@code Gradient2Limit}): grows while latency is stable, shrinks as queueing raises it.
     */
    GRADIENT2,
    /**
     * Adapts by estimating the queue from the minimum observed latency (concurrency-limits' {@code
     * VegasLimit}), and lowers it on every dropped call.
     */
    VEGAS
  }
}
