package dev.chassis.benchmarks.cross;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.chassis.benchmarks.cross.H2load.Options;
import dev.chassis.benchmarks.servers.BenchServers;
import dev.chassis.benchmarks.servers.BenchServers.BenchServer;
import dev.chassis.benchmarks.servers.BenchServers.Kind;
import dev.chassis.benchmarks.servers.BenchServers.Settings;
import dev.chassis.benchmarks.servers.BenchUserService;
import dev.chassis.sample.user.v1.GetUserRequest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class H2loadTest {
  @Test
  void grpcFrame_isUncompressedFlagBigEndianLengthAndMessage() {
    GetUserRequest request = GetUserRequest.newBuilder().setId("abc").build();

    byte[] frame = H2load.grpcFrame(request);

    // GetUserRequest{id="abc"}: field 1, wire type 2 (0x0a), length 3, "abc".
    assertThat(frame).containsExactly(0, 0, 0, 0, 5, 0x0a, 3, 'a', 'b', 'c');
  }

  @Test
  void parse_realRequestCountOutput_readsCountsRateAndRequestTime() throws IOException {
    H2loadResult result = H2loadResult.parse(resource("h2load-1.52-requests.txt"));

    assertThat(result.total()).isEqualTo(200);
    assertThat(result.succeeded()).isEqualTo(200);
    assertThat(result.failed()).isZero();
    assertThat(result.errored()).isZero();
    assertThat(result.status2xx()).isEqualTo(200);
    assertThat(result.requestsPerSecond()).isEqualTo(261.24);
    assertThat(result.seconds()).isEqualTo(0.76558);
    assertThat(result.trafficBytes()).isEqualTo(23692);
    assertThat(result.requestMinMicros()).isEqualTo(2150.0);
    assertThat(result.requestMaxMicros()).isEqualTo(457590.0);
    assertThat(result.requestMeanMicros()).isEqualTo(29940.0);
    assertThat(result.requestSdMicros()).isEqualTo(87630.0);
  }

  @Test
  void parse_realTimingBasedOutput_readsMicrosecondTimes() throws IOException {
    H2loadResult result = H2loadResult.parse(resource("h2load-1.52-duration.txt"));

    assertThat(result.total()).isEqualTo(12598);
    assertThat(result.succeeded()).isEqualTo(12598);
    assertThat(result.requestsPerSecond()).isEqualTo(6299.00);
    assertThat(result.seconds()).isEqualTo(3.0);
    assertThat(result.requestMinMicros()).isEqualTo(159.0);
    assertThat(result.requestMaxMicros()).isEqualTo(43710.0);
  }

  @Test
  void trailerCheck_realNghttpOutputOfAnInvalidId_readsGrpcStatusFromTheTrailers()
      throws IOException {
    H2load.TrailerCheck check =
        H2load.TrailerCheck.parse(resource("nghttp-1.52-invalid-argument.txt"));

    assertThat(check.httpStatus()).isEqualTo(200);
    assertThat(check.grpcStatus()).isEqualTo(3);
    assertThat(check.grpcMessage()).isEqualTo("id: must be a user id (a UUID)");
    assertThat(check.ok()).isFalse();
  }

  @Test
  void logPercentiles_skipFailedStreams(@TempDir Path dir) throws IOException {
    Path log = dir.resolve("requests.log");
    Files.writeString(
        log,
        "1795264921158063\t200\t100\n1795264921158064\t-1\t9000\n1795264921158351\t200\t300\n");

    Map<String, Long> percentiles = H2load.logPercentiles(log);

    assertThat(percentiles).containsEntry("count", 2L).containsEntry("max", 300L);
  }

  @Test
  void outcomesFromStats_readsTheLastStatsLine() throws IOException {
    String serverOutput =
        "listening bare 50061\nstats {\"outcomes\":{\"OK\":201,\"NOT_FOUND\":2}}\n";

    assertThat(H2load.outcomesFromStats(serverOutput))
        .containsExactly(Map.entry("OK", 201L), Map.entry("NOT_FOUND", 2L));
  }

  @Test
  @Timeout(30)
  void bareServer_h2loadRequestCount_equalsTheOkCallsTheServerAnswered() throws Exception {
    assumeH2load();
    try (BenchServer server = BenchServers.start(Settings.forLoopback(Kind.BARE))) {
      Options options = options(server, BenchUserService.seedId(0));

      H2load.Run run = H2load.run(options);
      H2load.ServerCheck check =
          H2load.compareWithServer(run.result().succeeded(), 1, server.outcomes().snapshot(), true);

      assertThat(run.trailerCheck()).isNotNull();
      assertThat(run.trailerCheck().ok()).isTrue();
      assertThat(run.result().succeeded()).isEqualTo(200);
      assertThat(run.result().logLatencyMicros()).containsEntry("count", 200L);
      assertThat(check.serverOk()).isEqualTo(201);
      assertThat(check.passed()).isTrue();
    }
  }

  @Test
  @Timeout(30)
  void bareServer_unknownId_h2loadCountsSucceededButTheServerCheckFails() throws Exception {
    assumeH2load();
    try (BenchServer server = BenchServers.start(Settings.forLoopback(Kind.BARE))) {
      // Seeded users are 0..99: user 100 does not exist, every call is NOT_FOUND over HTTP 200.
      Options options = options(server, BenchUserService.seedId(100));

      H2load.Run run = H2load.run(options);
      H2load.ServerCheck check =
          H2load.compareWithServer(run.result().succeeded(), 0, server.outcomes().snapshot(), true);

      assertThat(run.result().succeeded()).isEqualTo(200);
      assertThat(run.trailerCheck().grpcStatus()).isEqualTo(5);
      assertThat(server.outcomes().snapshot()).containsExactly(Map.entry("NOT_FOUND", 201L));
      assertThat(check.passed()).isFalse();
    }
  }

  private static Options options(BenchServer server, String id) {
    return new Options("127.0.0.1", server.port(), id, 200, 0, 0, 2, 4, 1, 20, true, true);
  }

  private static void assumeH2load() {
    boolean found = false;
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      found |=
          Files.isExecutable(Path.of(dir, "h2load")) && Files.isExecutable(Path.of(dir, "nghttp"));
    }
    assumeTrue(
        found, "h2load and nghttp not on PATH: apt-get install nghttp2-client (.ci/run does)");
  }

  private static String resource(String name) throws IOException {
    try (InputStream in =
        Objects.requireNonNull(H2loadTest.class.getResourceAsStream("/cross/" + name), name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
