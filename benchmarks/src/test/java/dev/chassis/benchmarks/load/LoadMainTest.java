package dev.chassis.benchmarks.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chassis.benchmarks.servers.BenchServers;
import dev.chassis.benchmarks.servers.BenchServers.BenchServer;
import dev.chassis.benchmarks.servers.BenchServers.Kind;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class LoadMainTest {
  private static BenchServer bare;

  @BeforeAll
  static void startServer() throws Exception {
    bare = BenchServers.start(BenchServers.Settings.forLoopback(Kind.BARE));
  }

  @AfterAll
  static void stopServer() {
    bare.close();
  }

  @Test
  void closedModel_againstBare_reportsCallsWithoutErrors() throws Exception {
    JsonNode result =
        runJson(
            "--method", "GetUser", "--concurrency", "2", "--warmup", "200ms", "--duration", "1s");

    assertThat(result.get("model").asText()).isEqualTo("closed");
    assertThat(result.get("count").asLong()).isGreaterThan(0);
    assertThat(result.get("errors").asLong()).isZero();
    assertThat(result.get("codes").get("OK").asLong()).isEqualTo(result.get("count").asLong());
    JsonNode latency = result.get("latency_us");
    assertThat(latency.get("p50").asLong()).isPositive();
    assertThat(latency.get("p50").asLong()).isLessThanOrEqualTo(latency.get("p90").asLong());
    assertThat(latency.get("p90").asLong()).isLessThanOrEqualTo(latency.get("p99").asLong());
    assertThat(latency.get("p99").asLong()).isLessThanOrEqualTo(latency.get("p99_9").asLong());
    assertThat(latency.get("p99_9").asLong()).isLessThanOrEqualTo(latency.get("max").asLong());
    assertThat(result.get("throughput").asDouble()).isPositive();
  }

  @Test
  void openModel_atSmallRate_sendsTheIntendedCount() throws Exception {
    JsonNode result =
        runJson("--method", "GetUser", "--rate", "200", "--duration", "1s", "--connections", "2");

    assertThat(result.get("model").asText()).isEqualTo("open");
    assertThat(result.get("count").asDouble()).isCloseTo(200, within(10.0));
    assertThat(result.get("errors").asLong()).isZero();
    assertThat(result.get("not_sent").asLong()).isZero();
  }

  @Test
  void callsLimit_listUsersStreamsPageSizeMessages() throws Exception {
    JsonNode result =
        runJson("--method", "ListUsers", "--page-size", "5", "--calls", "20", "--concurrency", "2");

    assertThat(result.get("count").asLong()).isEqualTo(20);
    assertThat(result.get("messages").asLong()).isEqualTo(100);
  }

  @Test
  void dataFile_createUserWithUniqueEmails_allSucceed(@TempDir Path dir) throws Exception {
    Path request = dir.resolve("create.json");
    Files.writeString(request, "{\"name\": \"Load {n}\", \"email\": \"load-{n}@example.com\"}");

    JsonNode result =
        runJson("--method", "CreateUser", "--data-file", request.toString(), "--calls", "10");

    assertThat(result.get("codes").get("OK").asLong()).isEqualTo(10);
  }

  @Test
  void unknownId_isCountedByStatusCode() throws Exception {
    JsonNode result =
        runJson(
            "--method",
            "GetUser",
            "--id",
            "00000000-0000-0000-0000-000000000000",
            "--calls",
            "5",
            "--concurrency",
            "1");

    assertThat(result.get("codes").get("NOT_FOUND").asLong()).isEqualTo(5);
    assertThat(result.get("errors").asLong()).isEqualTo(5);
  }

  @Test
  void rest_closedModel_reportsHttpStatuses() throws Exception {
    try (BenchServer rest = BenchServers.start(BenchServers.Settings.forLoopback(Kind.REST))) {
      JsonNode result =
          runJson(
              "127.0.0.1:" + rest.port(),
              "--rest",
              "GET /v1/users/{id}",
              "--calls",
              "20",
              "--concurrency",
              "2");

      assertThat(result.get("codes").get("200").asLong()).isEqualTo(20);
      assertThat(rest.stats()).startsWith("{\"exchanges\":20,");
    }
  }

  @Test
  void badFlag_exitsWithTwo() throws Exception {
    ByteArrayOutputStream err = new ByteArrayOutputStream();

    int status =
        LoadMain.run(
            new String[] {"127.0.0.1:1", "--concurrency", "0"},
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));

    assertThat(status).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("--concurrency: 0 (expected: > 0)");
  }

  private static JsonNode runJson(String... flags) throws Exception {
    String[] args;
    if (flags[0].contains(":")) {
      args = new String[flags.length + 1];
      System.arraycopy(flags, 0, args, 0, flags.length);
    } else {
      args = new String[flags.length + 2];
      args[0] = "127.0.0.1:" + bare.port();
      System.arraycopy(flags, 0, args, 1, flags.length);
    }
    args[args.length - 1] = "--json";
    ByteArrayOutputStream out = new ByteArrayOutputStream();

    int status =
        LoadMain.run(
            args,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));

    assertThat(status).isZero();
    return new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8));
  }
}
