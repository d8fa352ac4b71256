package dev.chassis.discovery.consul;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/** Exponential backoff with jitter, shared by registration retries and the resolver. */
final class Backoff {
  private Backoff() {}

  /** {@code initial} doubled for each failure after the first, at most {@code max}. */
  static Duration ceiling(Duration initial, Duration max, int failures) {
    long initialNanos = initial.toNanos();
    long maxNanos = max.toNanos();
    int doublings = Math.max(failures - 1, 0);
    if (doublings >= 62 || initialNanos > (maxNanos >> doublings)) {
      return max;
    }
    return Duration.ofNanos(initialNanos << doublings);
  }

  /** A random value in [ceiling / 2, ceiling], so retrying clients spread out. */
  static long jittered(long ceiling) {
    if (ceiling <= 1) {
      return Math.max(ceiling, 0);
    }
    return ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling - ceiling / 2 + 1);
  }
}
