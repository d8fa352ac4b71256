package dev.chassis.benchmarks.suite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SamplesTest {
  @Test
  void medianAndSpread() {
    Samples samples = new Samples();
    for (double value : new double[] {30, 10, 20, Double.NaN}) {
      samples.add(value);
    }
    assertThat(samples.size()).isEqualTo(3);
    assertThat(samples.median()).isEqualTo(20);
    assertThat(samples.describe(0)).isEqualTo("20 (10–30)");
    samples.add(40);
    assertThat(samples.median()).isEqualTo(25);
    assertThat(new Samples().describe(1)).isEqualTo("–");
  }

  @Test
  void ratiosAndDeltas() {
    assertThat(Samples.ratio(45, 50)).isEqualTo("0.90×");
    assertThat(Samples.ratio(1, 0)).isEqualTo("–");
    assertThat(Samples.delta(112, 100, 0)).isEqualTo("+12");
    assertThat(Samples.delta(1100, 2300, 0)).isEqualTo("-1,200");
    assertThat(Samples.number(12345.678, 1)).isEqualTo("12,345.7");
  }

  @Test
  void markdownTable() {
    MarkdownTable table = new MarkdownTable("name", ">value").row("a|b", 1);
    assertThat(table.toString()).isEqualTo("| name | value |\n| --- | ---: |\n| a\\|b | 1 |\n");
    assertThatThrownBy(() -> table.row("only one")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void options() {
    SuiteOptions options =
        SuiteOptions.parse(new String[] {"--steps", "wire,load", "--repeats", "2"});
    assertThat(options.steps).containsExactly("load", "wire");
    assertThat(options.repeats).isEqualTo(2);
    assertThatThrownBy(() -> SuiteOptions.parse(new String[] {"--steps", "nope"}))
        .hasMessageContaining("--steps: nope");
  }
}
