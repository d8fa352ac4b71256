package dev.chassis.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.chassis.testsupport.DrainTestMain;
import dev.chassis.testsupport.TestServers;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A real SIGTERM to a real server process while calls are in flight. */
class SigtermDrainTest {

  @Test
  void sigterm_inFlightCallsCompleteAndProcessExitsZero() throws Exception {
    String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process process =
        new ProcessBuilder(
                javaBin,
                "-cp",
                System.getProperty("java.class.path"),
                DrainTestMain.class.getName())
            .redirectErrorStream(true)
            .start();
    List<String> output = new CopyOnWriteArrayList<>();
    CompletableFuture<Integer> port = new CompletableFuture<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader lines =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = lines.readLine()) != null) {
                  output.add(line);
                  if (line.startsWith("PORT=")) {
                    port.complete(Integer.parseInt(line.substring("PORT=".length())));
                  }
                }
              } catch (java.io.IOException e) {
                port.completeExceptionally(e);
              }
            });
    reader.setDaemon(true);
    reader.start();
    ManagedChannel channel = null;
    try {
      channel = TestServers.channel(port.get(30, TimeUnit.SECONDS));
      List<DrainTest.Stream> streams = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        streams.add(DrainTest.Stream.start(channel, 10, 150));
      }
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> streams.stream().allMatch(s -> !s.received.isEmpty()));

      // SIGTERM. Process.destroy() would also close our end of the child's stdout.
      assertThat(process.toHandle().destroy()).isTrue();

      for (DrainTest.Stream stream : streams) {
        assertThat(stream.done.get(15, TimeUnit.SECONDS)).isEqualTo(Status.Code.OK);
        assertThat(stream.received).hasSize(10);
      }
      assertThat(process.waitFor(15, TimeUnit.SECONDS))
          .as("exited within the grace period")
          .isTrue();
      assertThat(process.exitValue()).as("exit status, output: %s", output).isZero();
      reader.join(5_000);
      assertThat(String.join("\n", output))
          .contains("received SIGTERM")
          .contains("all calls completed");
    } finally {
      if (channel != null) {
        channel.shutdownNow();
      }
      process.destroyForcibly();
    }
  }
}
