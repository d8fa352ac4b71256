package dev.chassis.testing;

import io.grpc.Status;
import java.time.Duration;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * One fault of a {@link FaultInjection}: which methods, how often, and what happens to a call it
 * picks (a delay, an abort, or a delay followed by an abort). Immutable; validated on creation.
 */
record FaultRule(
    String pattern, double percent, @Nullable Duration delay, Status.@Nullable Code abort) {

  static final String PATTERN_EXPECTED = "\"pkg.Service/Method\", \"pkg.Service/*\" or \"*\"";
  static final String PERCENT_EXPECTED = "0..100";
  static final String DELAY_EXPECTED = "a duration > 0 and <= 1h, such as 100ms";
  static final String ABORT_EXPECTED = "a status code other than OK, such as UNAVAILABLE";
  static final Duration MAX_DELAY = Duration.ofHours(1);

  private static final Pattern VALID_PATTERN =
      Pattern.compile("\\*|[^/*\\s]+/(\\*|[^/*\\s]+)", Pattern.UNICODE_CHARACTER_CLASS);

  FaultRule {
    if (!isValidPattern(pattern)) {
      throw new IllegalArgumentException(
          "methodPattern: " + pattern + " (expected: " + PATTERN_EXPECTED + ")");
    }
    if (!isValidPercent(percent)) {
      throw new IllegalArgumentException(
          "percent: " + percent + " (expected: " + PERCENT_EXPECTED + ")");
    }
    if (delay != null && !isValidDelay(delay)) {
      throw new IllegalArgumentException("delay: " + delay + " (expected: " + DELAY_EXPECTED + ")");
    }
    if (abort == Status.Code.OK) {
      throw new IllegalArgumentException("code: OK (expected: " + ABORT_EXPECTED + ")");
    }
    if (delay == null && abort == null) {
      throw new IllegalArgumentException("a fault needs a delay, an abort code or both");
    }
  }

  static boolean isValidPattern(@Nullable String pattern) {
    return pattern != null && VALID_PATTERN.matcher(pattern).matches();
  }

  static boolean isValidPercent(double percent) {
    return percent >= 0.0 && percent <= 100.0; // false for NaN
  }

  static boolean isValidDelay(Duration delay) {
    return !delay.isNegative() && !delay.isZero() && delay.compareTo(MAX_DELAY) <= 0;
  }

  /** 2 for an exact method, 1 for {@code Service/*}, 0 for {@code *}: the most specific decides. */
  int specificity() {
    if (pattern.equals("*")) {
      return 0;
    }
    return pattern.endsWith("/*") ? 1 : 2;
  }

  /** Whether this rule applies to {@code fullMethodName}, such as {@code pkg.Service/Method}. */
  boolean matches(String fullMethodName) {
    if (pattern.equals("*")) {
      return true;
    }
    if (pattern.endsWith("/*")) {
      // "pkg.Service/" must be a prefix, followed by a method name.
      int prefixLength = pattern.length() - 1;
      return fullMethodName.length() > prefixLength
          && fullMethodName.regionMatches(0, pattern, 0, prefixLength);
    }
    return pattern.equals(fullMethodName);
  }

  @Override
  public String toString() {
    StringBuilder text = new StringBuilder();
    text.append(percent).append("% of ").append(pattern);
    if (delay != null) {
      text.append(": delay ").append(formatDuration(delay));
    }
    if (abort != null) {
      text.append(delay != null ? " then abort " : ": abort ").append(abort);
    }
    return text.toString();
  }

  static String formatDuration(Duration duration) {
    if (duration.toNanos() % 1_000_000 != 0) {
      return duration.toNanos() + "ns";
    }
    return duration.toMillis() + "ms";
  }
}
