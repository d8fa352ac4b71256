package dev.chassis.benchmarks.suite;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The suite end to end, shortened: the load step starts every server kind as a child JVM and drives
 * it in every phase; the wire step counts bytes through the proxy. Figures from such short runs
 * mean nothing; the test checks that the runs happen and the tables come out.
 */
class BenchmarkSuiteTest {
  @TempDir Path out;

  @Test
  @Timeout(240)
  void loadStep_runsEveryKindInEveryPhaseWithoutErrors() throws Exception {
    BenchmarkSuite.main(
        new String[] {
          "--steps",
          "load",
          "--repeats",
          "1",
          "--duration",
          "500ms",
          "--warmup",
          "500ms",
          "--concurrency",
          "8",
          "--out",
          out.toString()
        });

    List<JsonNode> runs = raw("load");
    List<String> seen = new ArrayList<>();
    for (JsonNode run : runs) {
      seen.add(run.path("kind").asText() + "/" + run.path("phase").asText());
      assertThat(run.path("load").path("count").asLong())
          .as(seen.get(seen.size() - 1))
          .isPositive();
      assertThat(run.path("load").path("errors").asLong()).as(seen.get(seen.size() - 1)).isZero();
      assertThat(run.path("server_cpu_s").asDouble()).isNotNegative();
    }
    assertThat(seen)
        .containsExactlyInAnyOrder(
            "bare/saturation",
            "bare/one-at-a-time",
            "bare/half-load",
            "bare/equal-load",
            "bare-fixed/saturation",
            "bare-fixed/one-at-a-time",
            "bare-fixed/half-load",
            "chassis/saturation",
            "chassis/one-at-a-time",
            "chassis/half-load",
            "chassis/equal-load",
            "chassis-full/saturation",
            "chassis-full/one-at-a-time",
            "chassis-full/half-load",
            "rest/saturation",
            "rest/one-at-a-time",
            "rest/equal-load");
    String results = Files.readString(out.resolve("results.md"));
    assertThat(results)
        .contains("### Targets")
        .contains("### Throughput at saturation (closed model, 8 calls in flight)")
        .contains("### Latency at one call at a time")
        .contains("### gRPC versus REST/JSON at equal load")
        .containsPattern("\\| chassis-full \\| [0-9,]+ \\| [0-9.]+× \\|");
  }

  @Test
  @Timeout(60)
  void wireStep_countsProtobufAndJsonBytesOnTheWire() throws Exception {
    BenchmarkSuite.main(new String[] {"--steps", "wire", "--out", out.toString()});

    List<JsonNode> sizes = raw("wire");
    assertThat(sizes)
        .extracting(size -> size.path("call").asText())
        .containsExactly("GetUser", "ListUsers, page of 10", "ListUsers, page of 100");
    for (JsonNode size : sizes) {
      // On the wire there is more than the message: framing and headers.
      assertThat(size.path("grpc_response").asDouble())
          .isGreaterThan(size.path("grpc_message").asDouble());
      assertThat(size.path("rest_response").asDouble())
          .isGreaterThan(size.path("rest_body").asDouble());
      assertThat(size.path("grpc_message").asDouble())
          .isLessThan(size.path("rest_body").asDouble());
    }
    // A page of 100 users is about ten pages of 10 in both encodings.
    assertThat(sizes.get(2).path("grpc_message").asDouble())
        .isBetween(
            9 * sizes.get(1).path("grpc_message").asDouble(),
            11 * sizes.get(1).path("grpc_message").asDouble());
    assertThat(Files.readString(out.resolve("results.md")))
        .contains("### Bytes on the wire per call")
        .contains("| GetUser |");
  }

  private List<JsonNode> raw(String step) throws Exception {
    List<JsonNode> lines = new ArrayList<>();
    for (String line : Files.readAllLines(out.resolve("raw.jsonl"))) {
      JsonNode node = Report.JSON.readTree(line);
      if (node.path("step").asText().equals(step)) {
        lines.add(node);
      }
    }
    return lines;
  }
}
