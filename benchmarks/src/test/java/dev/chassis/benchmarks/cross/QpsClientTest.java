package dev.chassis.benchmarks.cross;

import static org.assertj.core.api.Assertions.assertThat;

import dev.chassis.benchmarks.servers.BenchServers;
import dev.chassis.benchmarks.servers.BenchServers.BenchServer;
import dev.chassis.benchmarks.servers.BenchServers.Kind;
import dev.chassis.benchmarks.servers.BenchServers.Settings;
import io.grpc.Status;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class QpsClientTest {
  @Test
  void parseOutput_realAsyncClientOutput_readsQpsAndPercentiles() throws IOException {
    String output;
    try (InputStream in =
        Objects.requireNonNull(getClass().getResourceAsStream("/cross/qps-client-1.79.0.txt"))) {
      output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }

    Map<String, Long> values = QpsClient.parseOutput(output);

    assertThat(values)
        .containsEntry("channels", 1L)
        .containsEntry("outstanding_rpcs_per_channel", 4L)
        .containsEntry("server_payload_bytes", 100L)
        .containsEntry("p50_us", 14975L)
        .containsEntry("p99.9_us", 140287L)
        .containsEntry("max_us", 140287L)
        .containsEntry("qps", 238L);
  }

  @Test
  @Timeout(60)
  void chassisServer_grpcQpsClient_measuresQpsAndTheServerAnswersOk() throws Exception {
    try (BenchServer server = BenchServers.start(Settings.forLoopback(Kind.CHASSIS))) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();

      int exit =
          QpsClient.run(
              new String[] {
                "127.0.0.1:" + server.port(),
                "--channels",
                "1",
                "--outstanding",
                "4",
                "--duration",
                "1",
                "--warmup",
                "1",
                "--server-payload",
                "100",
                "--json"
              },
              new PrintStream(out, true, StandardCharsets.UTF_8),
              new PrintStream(err, true, StandardCharsets.UTF_8));

      String json = out.toString(StandardCharsets.UTF_8);
      assertThat(exit).as(err.toString(StandardCharsets.UTF_8)).isZero();
      assertThat(json).contains("\"server_payload_bytes\":100").contains("\"p99_us\":");
      long qps = Long.parseLong(json.replaceAll("(?s).*\"qps\":(\\d+).*", "$1"));
      assertThat(qps).isPositive();
      // Warm-up and measured calls all reached the handler and were answered OK.
      assertThat(server.outcomes().count(Status.Code.OK)).isGreaterThanOrEqualTo(qps);
      assertThat(server.outcomes().snapshot()).containsOnlyKeys("OK");
    }
  }
}
