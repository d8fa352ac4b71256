package dev.chassis.resilience;

import io.grpc.Metadata;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Server rate limits for {@link ServerLimits#rateLimit}: permits per period for methods, services
 * or everything, optionally counted per caller. Immutable.
 *
 * <p>Keys of {@code limits}: {@code "package.Service/Method"} (one method), {@code
 * "package.Service"} (every method of a service) or {@code "*"} (every method). The most specific
 * key matching a call applies; a method no key matches is not limited. A rule's permits are one
 * budget shared by all the methods it covers: {@code "*"} at 100 per second admits 100 calls per
 * second across the whole server (per caller, with {@code callerMetadataKey}), not 100 per method.
 *
 * <pre>{@code
 * RateLimitSettings settings =
 *     RateLimitSettings.of(
 *             Map.of(
 *                 "*", RateLimitSettings.Rate.perSecond(500),
 *                 "user.v1.UserService/CreateUser", RateLimitSettings.Rate.perSecond(20)))
 *         .perCaller("x-api-key");
 * }</pre>
 *
 * @param limits the rate for each key; copied
 * @param callerMetadataKey when set, an ASCII request header (such as {@code x-api-key} or {@code
 *     x-caller-id}) whose value names the caller: each distinct value gets its own budget under
 *     every rule, and calls without the header share one anonymous budget per rule. Null: one
 *     budget per rule for all callers
 * @param callerIsPeerIdentity whether the caller is the peer's verified identity (mTLS, {@link
 *     dev.chassis.security.PeerIdentities}) instead of a header; calls without one share the
 *     anonymous budget. Not together with {@code callerMetadataKey}
 * @param maxCallers how many distinct callers' budgets are kept when callers are told apart (least
 *     recently seen evicted first; an evicted caller starts again with a full budget). Bounds
 *     memory when callers send ever new values
 */
public record RateLimitSettings(
    Map<String, Rate> limits,
    @Nullable String callerMetadataKey,
    boolean callerIsPeerIdentity,
    int maxCallers) {

  /** Distinct callers kept by default: {@value}. */
  public static final int DEFAULT_MAX_CALLERS = 10_000;

  /** The rule key that matches every method. */
  public static final String ANY_METHOD = "*";

  /**
   * Validates and copies the settings.
   *
   * @throws IllegalArgumentException when a key is malformed, {@code callerMetadataKey} is not an
   *     ASCII header name or set together with {@code callerIsPeerIdentity}, or {@code maxCallers}
   *     is not positive
   */
  public RateLimitSettings {
    Objects.requireNonNull(limits, "limits");
    for (String key : limits.keySet()) {
      if (!isValidKey(key)) {
        throw new IllegalArgumentException(
            "limits key: \""
                + key
                + "\" (expected: \"*\", \"package.Service\" or \"package.Service/Method\")");
      }
    }
    limits = Map.copyOf(limits);
    if (callerMetadataKey != null) {
      checkHeaderName(callerMetadataKey);
      if (callerIsPeerIdentity) {
        throw new IllegalArgumentException(
            "callerMetadataKey and callerIsPeerIdentity: one caller key, not both");
      }
    }
    if (maxCallers <= 0) {
      throw new IllegalArgumentException("maxCallers: " + maxCallers + " (expected: > 0)");
    }
  }

  /** Limits without per-caller budgets. */
  public static RateLimitSettings of(Map<String, Rate> limits) {
    return new RateLimitSettings(limits, null, false, DEFAULT_MAX_CALLERS);
  }

  /**
   * These limits, counted separately for each value of the request header {@code metadataKey},
   * keeping up to {@link #DEFAULT_MAX_CALLERS} callers unless {@link #maxCallers} was changed.
   */
  public RateLimitSettings perCaller(String metadataKey) {
    return new RateLimitSettings(limits, metadataKey, false, maxCallers);
  }

  /** These limits, counted separately for each verified peer identity (mTLS). */
  public RateLimitSettings perPeerIdentity() {
    return new RateLimitSettings(limits, null, true, maxCallers);
  }

  /** These limits, keeping at most {@code maxCallers} distinct callers' budgets. */
  public RateLimitSettings withMaxCallers(int maxCallers) {
    return new RateLimitSettings(limits, callerMetadataKey, callerIsPeerIdentity, maxCallers);
  }

  private static boolean isValidKey(String key) {
    if (key.equals(ANY_METHOD)) {
      return true;
    }
    if (key.isEmpty() || key.contains("*") || key.chars().anyMatch(Character::isWhitespace)) {
      return false;
    }
    int slash = key.indexOf('/');
    if (slash < 0) {
      return true;
    }
    return slash > 0 && slash < key.length() - 1 && key.indexOf('/', slash + 1) < 0;
  }

  private static void checkHeaderName(String name) {
    try {
      Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "callerMetadataKey: \""
              + name
              + "\" (expected: an ASCII header name such as x-api-key, not ending in -bin)",
          e);
    }
  }

  /**
   * A rate: {@code permits} calls per {@code period}. The budget refills in full at the start of
   * each period (no carry-over); a call, streaming or not, costs one permit when it starts.
   *
   * @param permits calls admitted per period, {@code > 0}
   * @param period length of a period, {@code > 0}
   */
  public record Rate(int permits, Duration period) {

    /**
     * Validates the rate.
     *
     * @throws IllegalArgumentException when {@code permits} or {@code period} is not positive
     */
    public Rate {
      Objects.requireNonNull(period, "period");
      if (permits <= 0) {
        throw new IllegalArgumentException("permits: " + permits + " (expected: > 0)");
      }
      if (period.isNegative() || period.isZero()) {
        throw new IllegalArgumentException("period: " + period + " (expected: > 0)");
      }
    }

    /** {@code permits} calls per second. */
    public static Rate perSecond(int permits) {
      return new Rate(permits, Duration.ofSeconds(1));
    }

    /** {@code permits} calls per minute. */
    public static Rate perMinute(int permits) {
      return new Rate(permits, Duration.ofMinutes(1));
    }
  }
}
