package dev.chassis.discovery.consul;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

/** The small pure parts of Consul discovery; the behaviour is tested against the Consul double. */
class ConsulRegistryUnitTest {
  @Test
  void backoffCeiling_doublesPerFailureUpToTheMaximumWithoutOverflowing() {
    Duration initial = Duration.ofMillis(500);
    Duration max = Duration.ofSeconds(30);

    assertThat(Backoff.ceiling(initial, max, 0)).isEqualTo(initial);
    assertThat(Backoff.ceiling(initial, max, 1)).isEqualTo(initial);
    assertThat(Backoff.ceiling(initial, max, 2)).isEqualTo(Duration.ofSeconds(1));
    assertThat(Backoff.ceiling(initial, max, 7)).isEqualTo(Duration.ofSeconds(30));
    assertThat(Backoff.ceiling(initial, max, 1_000)).isEqualTo(max);
    assertThat(Backoff.ceiling(Duration.ofHours(5), Duration.ofDays(3), 40))
        .isEqualTo(Duration.ofDays(3));
  }

  @RepeatedTest(20)
  void backoffJitter_staysBetweenHalfAndAllOfTheCeiling() {
    assertThat(Backoff.jittered(1_000)).isBetween(500L, 1_000L);
    assertThat(Backoff.jittered(1)).isEqualTo(1);
    assertThat(Backoff.jittered(0)).isZero();
  }

  @Test
  void goDuration_wholeSecondsElseMilliseconds() {
    assertThat(ConsulServiceRegistry.goDuration(Duration.ofMinutes(1))).isEqualTo("60s");
    assertThat(ConsulServiceRegistry.goDuration(Duration.ofMillis(1500))).isEqualTo("1500ms");
  }

  @Test
  void hostPort_bracketsIpv6Literals() {
    assertThat(ConsulServiceRegistry.hostPort("10.0.0.5", 50051)).isEqualTo("10.0.0.5:50051");
    assertThat(ConsulServiceRegistry.hostPort("::1", 50051)).isEqualTo("[::1]:50051");
    assertThat(ConsulServiceRegistry.hostPort("user.internal", 1)).isEqualTo("user.internal:1");
  }

  @Test
  void detectAddress_keepsASpecificBindHostAndReplacesAWildcard() {
    assertThat(ConsulServiceRegistry.detectAddress("127.0.0.1")).isEqualTo("127.0.0.1");
    assertThat(ConsulServiceRegistry.detectAddress("0.0.0.0")).isNotIn("0.0.0.0", "");
  }
}
