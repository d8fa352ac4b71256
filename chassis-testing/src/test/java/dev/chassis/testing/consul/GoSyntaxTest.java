package dev.chassis.testing.consul;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Go's duration syntax and query-string rules, which Consul applies to every request. */
class GoSyntaxTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "0, 0",
    "10s, 10000000000",
    "1m30s, 90000000000",
    "1.5h, 5400000000000",
    "250ms, 250000000",
    "-5s, -5000000000",
    "+2us, 2000",
    "1h2m3.5s, 3723500000000",
    ".5s, 500000000",
    "3ns, 3",
  })
  void parse_acceptsGoDurations(String text, long nanos) throws Exception {
    assertThat(GoDuration.parse(text)).isEqualTo(nanos);
  }

  @ParameterizedTest(name = "{1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "'' | time: invalid duration \"\"",
        "x | time: invalid duration \"x\"",
        "10 | time: missing unit in duration \"10\"",
        "10d | time: unknown unit \"d\" in duration \"10d\"",
        ". | time: invalid duration \".\"",
        "99999999999h | time: invalid duration \"99999999999h\"",
      })
  void parse_rejectsWithGosMessages(String text, String message) {
    assertThatThrownBy(() -> GoDuration.parse(text))
        .isInstanceOf(GoDuration.FormatException.class)
        .hasMessage(message);
  }

  @ParameterizedTest(name = "{1}")
  @CsvSource({
    "0, 0s",
    "1500, 1.5\u00b5s",
    "250000000, 250ms",
    "10000000000, 10s",
    "60000000000, 1m0s",
    "90500000000, 1m30.5s",
    "3600000000000, 1h0m0s",
    "-2000000000, -2s",
  })
  void format_matchesGosDurationString(long nanos, String text) {
    assertThat(GoDuration.format(nanos)).isEqualTo(text);
  }

  @Test
  void format_roundTripsLongDurations() throws Exception {
    long nanos = TimeUnit.HOURS.toNanos(49) + 7;
    assertThat(GoDuration.parse(GoDuration.format(nanos))).isEqualTo(nanos);
  }

  @Test
  void queryParams_followGosParseQuery() {
    QueryParams query =
        QueryParams.parse("tag=a&tag=b+c&passing&stale=&note=x%26y&bad=%zz&semi=1;2&empty");

    assertThat(query.all("tag")).containsExactly("a", "b c");
    assertThat(query.has("passing")).isTrue();
    assertThat(query.first("passing")).isEmpty();
    assertThat(query.has("stale")).isTrue();
    assertThat(query.first("note")).isEqualTo("x&y");
    assertThat(query.has("bad")).isFalse();
    assertThat(query.has("semi")).isFalse();
    assertThat(query.has("absent")).isFalse();
    assertThat(query.first("absent")).isEmpty();
  }
}
