package dev.chassis.sample.user;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chassis.sample.user.v1.CreateUserRequest;
import dev.chassis.sample.user.v1.GetUserRequest;
import dev.chassis.sample.user.v1.ListUsersRequest;
import dev.chassis.sample.user.v1.User;
import dev.chassis.sample.user.v1.UserServiceGrpc;
import dev.chassis.testing.RecordingStreamObserver;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar as users run it ({@code java -jar target/sample-user-service.jar}), called by a
 * non-Java client (Node's {@code @grpc/grpc-js}), then stopped with SIGTERM while a call is in
 * flight.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SampleServiceProcessIT {
  private static final Path JAR = Path.of("target", "sample-user-service.jar");
  private static final String UNKNOWN_ID = "00000000-0000-0000-0000-000000000000";
  private static final Path NODE_CLIENT = Path.of("src", "test", "node");
  // Strict: a duplicate key in a log line is a bug (Elasticsearch rejects such documents).
  private static final ObjectMapper json =
      com.fasterxml.jackson.databind.json.JsonMapper.builder()
          .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .build();
  private static final java.util.regex.Pattern STARTED =
      java.util.regex.Pattern.compile("gRPC on [^:]+:(\\d+), admin on port (\\d+)");
  private static final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private static Process process;
  private static final List<String> output = new CopyOnWriteArrayList<>();
  private static int grpcPort;
  private static int adminPort;

  @BeforeAll
  static void startJar() throws Exception {
    assertThat(JAR).as("run after 'package'").exists();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder builder =
        new ProcessBuilder(java, "-jar", JAR.toString()).redirectErrorStream(true);
    // Port 0: the service picks free ports and logs them; no port can be taken in between.
    builder.environment().put("CHASSIS_GRPC_PORT", "0");
    builder.environment().put("CHASSIS_ADMIN_PORT", "0");
    process = builder.start();
    Thread reader = new Thread(() -> readLines(process.getInputStream()), "jar-output");
    reader.setDaemon(true);
    reader.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> boundPorts() != null);
    java.util.regex.Matcher ports = boundPorts();
    grpcPort = Integer.parseInt(ports.group(1));
    adminPort = Integer.parseInt(ports.group(2));
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> get("/health/ready").statusCode() == 200);
  }

  private static java.util.regex.@org.jspecify.annotations.Nullable Matcher boundPorts() {
    for (String line : output) {
      java.util.regex.Matcher matcher = STARTED.matcher(line);
      if (matcher.find()) {
        return matcher;
      }
    }
    return null;
  }

  @AfterAll
  static void stopJar() {
    if (process != null) {
      process.destroyForcibly();
    }
  }

  @Test
  @Order(1)
  void nodeClient_healthReflectionCrudAndErrorModel(@TempDir Path protos) throws Exception {
    NodeE2eClient.driveEveryMethod(grpcPort, protos);
  }

  @Test
  @Order(2)
  void admin_servesMetricsAndHealth() throws Exception {
    HttpResponse<String> metrics = get("/metrics");

    assertThat(get("/health/live").statusCode()).isEqualTo(200);
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body())
        .contains("jvm_memory_used_bytes")
        .contains("service=\"user-service\"");
  }

  @Test
  @Order(3)
  void logs_areJsonLinesWithTheContractFields() throws Exception {
    List<JsonNode> lines = new ArrayList<>();
    for (String line : output) {
      lines.add(json.readTree(line));
    }

    assertThat(lines).isNotEmpty();
    for (JsonNode line : lines) {
      assertThat(line.has("@timestamp")).as(line.toString()).isTrue();
      assertThat(line.has("level")).isTrue();
      assertThat(line.has("logger_name")).isTrue();
      assertThat(line.has("thread_name")).isTrue();
      assertThat(line.has("message")).isTrue();
      assertThat(line.get("service").asText()).isEqualTo("user-service");
    }
  }

  @Test
  @Order(4)
  void prometheus_scrapesPerMethodSeriesWithCodes_andQuantilesWork(@TempDir Path dir)
      throws Exception {
    Path prometheusBinary = requireOnPath("prometheus", "Debian package prometheus");
    int port = freePort();
    Path config = dir.resolve("prometheus.yml");
    Files.writeString(
        config,
        """
        global:
          scrape_interval: 1s
          evaluation_interval: 1s
        scrape_configs:
          - job_name: user-service
            metrics_path: /metrics
            static_configs:
              - targets: ["127.0.0.1:%d"]
        """
            .formatted(adminPort));
    Process prometheus =
        new ProcessBuilder(
                prometheusBinary.toString(),
                "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("prometheus.log").toFile())
            .start();
    ManagedChannel channel =
        ManagedChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
    try {
      UserServiceGrpc.UserServiceBlockingStub users =
          UserServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
      User user =
          users.createUser(
              CreateUserRequest.newBuilder().setName("Prom").setEmail("prom@example.com").build());
      String p99 =
          "histogram_quantile(0.99, sum by (le) (rate(grpc_server_call_duration_seconds_bucket"
              + "{grpc_method=\"user.v1.UserService/GetUser\"}[30s])))";

      // Keep traffic flowing while Prometheus scrapes every second, until the quantile has data.
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(500))
          .ignoreExceptions()
          .until(
              () -> {
                for (int i = 0; i < 5; i++) {
                  users.getUser(GetUserRequest.newBuilder().setId(user.getId()).build());
                  try {
                    users.getUser(GetUserRequest.newBuilder().setId(UNKNOWN_ID).build());
                  } catch (io.grpc.StatusRuntimeException expected) {
                    // NOT_FOUND, wanted as a second status series
                  }
                }
                JsonNode result = query(port, p99);
                return result.size() == 1 && !result.get(0).at("/value/1").asText().equals("NaN");
              });

      JsonNode byStatus =
          query(
              port,
              "sum by (grpc_status, grpc_method_type, service) (grpc_server_call_duration_seconds_count"
                  + "{grpc_method=\"user.v1.UserService/GetUser\"})");
      List<String> statuses = new ArrayList<>();
      byStatus.forEach(series -> statuses.add(series.at("/metric/grpc_status").asText()));
      assertThat(statuses).contains("OK", "NOT_FOUND");
      assertThat(byStatus.get(0).at("/metric/service").asText()).isEqualTo("user-service");
      assertThat(byStatus.get(0).at("/metric/grpc_method_type").asText()).isEqualTo("UNARY");
      assertThat(Double.parseDouble(query(port, p99).get(0).at("/value/1").asText()))
          .isGreaterThan(0);
      assertThat(
              query(
                  port,
                  "grpc_server_call_started_total{grpc_method=\"user.v1.UserService/GetUser\"}"))
          .isNotEmpty();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      prometheus.destroy();
      prometheus.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** Prometheus's HTTP query API: the {@code data.result} array of an instant query. */
  private static JsonNode query(int port, String promql) throws Exception {
    String url =
        "http://127.0.0.1:"
            + port
            + "/api/v1/query?query="
            + java.net.URLEncoder.encode(promql, StandardCharsets.UTF_8);
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return json.readTree(response.body()).at("/data/result");
  }

  @Test
  @Order(5)
  void sigterm_inFlightStreamCompletes_newCallsServedDuringDrain_exitZero() throws Exception {
    ManagedChannel channel =
        ManagedChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
    try {
      UserServiceGrpc.UserServiceBlockingStub users =
          UserServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
      for (int i = 0; i < 300; i++) {
        users.createUser(
            CreateUserRequest.newBuilder()
                .setName("Drain " + i)
                .setEmail("drain" + i + "@example.com")
                .build());
      }
      // Takes one user, then waits: a call still in flight when SIGTERM arrives.
      RecordingStreamObserver<User> stream = RecordingStreamObserver.withManualFlowControl(1);
      UserServiceGrpc.newStub(channel)
          .withDeadlineAfter(30, TimeUnit.SECONDS)
          .listUsers(ListUsersRequest.getDefaultInstance(), stream);
      await().atMost(Duration.ofSeconds(5)).until(() -> stream.values().size() == 1);

      assertThat(process.toHandle().destroy()).isTrue(); // SIGTERM
      await().atMost(Duration.ofSeconds(5)).until(() -> get("/health/ready").statusCode() == 503);
      User during =
          users.createUser(
              CreateUserRequest.newBuilder().setName("Late").setEmail("late@example.com").build());
      stream.request(Integer.MAX_VALUE);

      assertThat(during.getName()).isEqualTo("Late");
      assertThat(stream.awaitCompletion(Duration.ofSeconds(15)).getCode())
          .isEqualTo(Status.Code.OK);
      assertThat(stream.values().size()).isGreaterThanOrEqualTo(300);
      assertThat(process.waitFor(15, TimeUnit.SECONDS))
          .as("exited within the grace period")
          .isTrue();
      assertThat(process.exitValue()).isZero();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /**
   * A binary from the PATH (or /usr/bin), else the test is skipped with a message naming what to
   * install, except under CI, where it fails.
   */
  private static Path requireOnPath(String command, String what) {
    Path found = null;
    String path = System.getenv("PATH");
    for (String dir :
        ((path == null ? "" : path) + java.io.File.pathSeparator + "/usr/bin")
            .split(java.io.File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
        found = Path.of(dir, command);
        break;
      }
    }
    String message = "needs " + command + " (" + what + "); .ci/run installs it";
    if (System.getenv("CI") != null) {
      assertThat(found).as(message).isNotNull();
    }
    Assumptions.assumeTrue(found != null, message);
    return found;
  }

  private static HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static void readLines(InputStream in) {
    try (BufferedReader lines =
        new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = lines.readLine()) != null) {
        output.add(line);
      }
    } catch (IOException e) {
      output.add("{\"reader\":\"" + e + "\"}");
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
