package dev.chassis.benchmarks.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TargetsTest {
  @Test
  void parsesHostAndPort_withIpv6InBrackets() {
    assertThat(Targets.parse("127.0.0.1:50051").getHost()).isEqualTo("127.0.0.1");
    assertThat(Targets.parse("127.0.0.1:50051").getPort()).isEqualTo(50051);
    assertThat(Targets.parse("[::1]:8080").getHost()).isEqualTo("::1");
  }

  @Test
  void rejectsTargetsWithoutHostOrPort() {
    for (String bad : new String[] {"localhost", ":50051", "host:port", "host:99999"}) {
      assertThatThrownBy(() -> Targets.parse(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("target: " + bad + " (expected: HOST:PORT)");
    }
  }
}
