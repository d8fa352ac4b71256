package dev.chassis.sample.user;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chassis.testing.tls.TestPki;
import io.grpc.Status;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
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
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar serving gRPC over mutual TLS, with certificates made at test time: a non-Java
 * client (Node's {@code @grpc/grpc-js}, {@code src/test/node/e2e.mjs}) with a client certificate
 * from the trusted CA completes every call; without a client certificate, or over plaintext, it
 * gets no connection at all.
 */
class SampleTlsProcessIT {
  private static final Path NODE_CLIENT = Path.of("src", "test", "node");
  private static final ObjectMapper json = new ObjectMapper();

  @TempDir static Path dir;
  private static Path protos;
  private static Path caFile;
  private static TestPki.Files client;
  private static TlsJar jar;

  @BeforeAll
  static void startJarWithMutualTls() throws Exception {
    requireNodeClient();
    protos = Files.createDirectory(dir.resolve("protos"));
    extractProtos(protos);

    TestPki ca = TestPki.newCa("sample-tls-it-ca");
    caFile = dir.resolve("ca.crt");
    ca.writeCertificate(caFile);
    TestPki.Files server = ca.server().write(dir, "server");
    client = ca.client("spiffe://example.org/ns/default/sa/node-e2e").write(dir, "client");

    jar =
        TlsJar.start(
            Map.of(
                "CHASSIS_TLS_CERT", server.chain().toString(),
                "CHASSIS_TLS_KEY", server.key().toString(),
                "CHASSIS_TLS_CLIENT_CA", caFile.toString()));
    assertThat(jar.tlsMode).isEqualTo("mTLS");
  }

  @AfterAll
  static void stopJar() throws InterruptedException {
    if (jar != null) {
      try {
        assertThat(jar.terminate()).as("exit status after SIGTERM; log: %s", jar.log).isZero();
      } finally {
        jar.close();
      }
    }
  }

  @Test
  void nodeClientWithClientCertificate_completesEveryCallOverMutualTls() throws Exception {
    JsonNode result =
        runNode(
            "--ca",
            caFile.toString(),
            "--cert",
            client.chain().toString(),
            "--key",
            client.key().toString(),
            "--server-name",
            "localhost");

    assertThat(result.get("tls").asBoolean()).isTrue();
    assertThat(result.at("/health/overall").asText()).isEqualTo("SERVING");
    assertThat(result.at("/health/userService").asText()).isEqualTo("SERVING");
    assertThat(texts(result.get("reflectionServices")))
        .contains("user.v1.UserService", "grpc.health.v1.Health");
    assertThat(result.get("reflectionFileFound").asBoolean()).isTrue();
    assertThat(result.at("/created/name").asText()).isEqualTo("Ada Lovelace");
    assertThat(result.at("/created/hasCreateTime").asBoolean()).isTrue();
    assertThat(result.at("/fetched/id").asText()).isEqualTo(result.at("/created/id").asText());
    assertThat(result.at("/notFound/codeName").asText()).isEqualTo("NOT_FOUND");
    assertThat(result.at("/invalid/codeName").asText()).isEqualTo("INVALID_ARGUMENT");
    List<String> fields = new ArrayList<>();
    result.at("/invalid/violations").forEach(v -> fields.add(v.get("field").asText()));
    assertThat(fields).containsExactlyInAnyOrder("name", "email");
    assertThat(result.at("/duplicate/codeName").asText()).isEqualTo("ALREADY_EXISTS");
    assertThat(result.get("listedContainsCreated").asBoolean()).isTrue();
    assertThat(result.has("importError"))
        .as("importError: %s", result.get("importError"))
        .isFalse();
    JsonNode imported = result.get("imported");
    assertThat(imported).hasSize(3);
    assertThat(imported.get(0).get("kind").asText()).isEqualTo("user");
    assertThat(imported.get(1).get("kind").asText()).isEqualTo("error");
    assertThat(imported.get(1).get("code").asInt()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
    assertThat(imported.get(2).get("kind").asText()).isEqualTo("user");
    assertThat(result.at("/deleted/ok").asBoolean()).isTrue();
    assertThat(result.at("/deletedThenGet/codeName").asText()).isEqualTo("NOT_FOUND");
    assertThat(result.at("/deletedTwice/codeName").asText()).isEqualTo("NOT_FOUND");
  }

  @Test
  void nodeClientWithoutClientCertificate_isRefusedInTheHandshake() throws Exception {
    JsonNode result = runNode("--ca", caFile.toString(), "--server-name", "localhost");

    assertThat(result.get("tls").asBoolean()).isTrue();
    // The server's TLS 1.3 alert 116 "certificate required" ends the handshake: no connection.
    assertThat(result.at("/health/overall/error/codeName").asText()).isEqualTo("UNAVAILABLE");
    assertThat(result.at("/health/overall/error/message").asText())
        .contains("certificate required");
    assertNothingReachedTheService(result);
  }

  @Test
  void plaintextNodeClient_getsNoConnectionToTheTlsPort() throws Exception {
    JsonNode result = runNode();

    assertThat(result.get("tls").asBoolean()).isFalse();
    assertThat(result.at("/health/overall/error/codeName").asText()).isEqualTo("UNAVAILABLE");
    assertNothingReachedTheService(result);
  }

  private static void assertNothingReachedTheService(JsonNode result) {
    assertThat(result.at("/health/userService/error/codeName").asText()).isEqualTo("UNAVAILABLE");
    assertThat(result.at("/reflectionError/codeName").asText()).isEqualTo("UNAVAILABLE");
    assertThat(result.at("/created/error/codeName").asText()).isEqualTo("UNAVAILABLE");
    assertThat(result.at("/duplicate/codeName").asText()).isEqualTo("UNAVAILABLE");
    assertThat(result.at("/listError/codeName").asText()).isEqualTo("UNAVAILABLE");
    assertThat(result.at("/importError/codeName").asText()).isEqualTo("UNAVAILABLE");
    assertThat(result.get("imported")).isEmpty();
  }

  /**
   * Runs {@code e2e.mjs} against the jar's gRPC port with {@code tlsFlags} added and returns the
   * JSON it printed; it exits 0 when every step ran, whether the steps succeeded or not.
   */
  private static JsonNode runNode(String... tlsFlags) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                "node",
                "e2e.mjs",
                "--target",
                "127.0.0.1:" + jar.grpcPort(),
                "--protos",
                protos.toAbsolutePath().toString()));
    command.addAll(List.of(tlsFlags));
    // Output to files, not pipes: nothing to drain while waiting, and the wait is bounded.
    Path stdout = Files.createTempFile(dir, "node-", ".out");
    Path stderr = Files.createTempFile(dir, "node-", ".err");
    Process node =
        new ProcessBuilder(command)
            .directory(NODE_CLIENT.toFile())
            .redirectOutput(stdout.toFile())
            .redirectError(stderr.toFile())
            .start();
    try {
      assertThat(node.waitFor(90, TimeUnit.SECONDS)).as("node finished").isTrue();
    } finally {
      node.destroyForcibly();
    }
    String out = Files.readString(stdout, StandardCharsets.UTF_8);
    assertThat(node.exitValue())
        .as("node exit status; stdout: %s; stderr: %s", out, Files.readString(stderr))
        .isZero();
    return json.readTree(out);
  }

  /**
   * As in {@link NodeE2eClient}: installs the npm packages with {@code npm ci} when they are
   * missing and {@code npm} is on the PATH; otherwise skips with a message, except under CI, where
   * it fails.
   */
  private static void requireNodeClient() throws Exception {
    Path installed = NODE_CLIENT.resolve("node_modules/@grpc/grpc-js");
    if (!Files.isDirectory(installed) && onPath("npm")) {
      Path log = Files.createTempFile("npm-ci-", ".log");
      try {
        Process npm =
            new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund")
                .directory(NODE_CLIENT.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        try {
          assertThat(npm.waitFor(180, TimeUnit.SECONDS)).as("npm ci finished").isTrue();
        } finally {
          npm.destroyForcibly();
        }
        assertThat(npm.exitValue()).as("npm ci: %s", Files.readString(log)).isZero();
      } finally {
        Files.deleteIfExists(log);
      }
    }
    boolean ready = Files.isDirectory(installed) && onPath("node");
    String message =
        "needs Node.js and npm (Debian packages nodejs and npm) for the Node gRPC client; "
            + ".ci/run installs them";
    if (System.getenv("CI") != null) {
      assertThat(ready).as(message).isTrue();
    }
    Assumptions.assumeTrue(ready, message);
  }

  private static boolean onPath(String command) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String directory : path.split(java.io.File.pathSeparator)) {
      if (Files.isExecutable(Path.of(directory, command))) {
        return true;
      }
    }
    return false;
  }

  /** The protos the Node client loads, laid out by import path, taken from the class path. */
  private static void extractProtos(Path target) throws IOException {
    for (String proto :
        List.of(
            "user/v1/user.proto",
            "grpc/health/v1/health.proto",
            "grpc/reflection/v1/reflection.proto",
            "google/rpc/status.proto",
            "google/rpc/error_details.proto",
            "google/rpc/code.proto")) {
      try (InputStream in = SampleTlsProcessIT.class.getClassLoader().getResourceAsStream(proto)) {
        assertThat(in).as(proto + " on the class path").isNotNull();
        Path file = target.resolve(proto);
        Files.createDirectories(file.getParent());
        Files.copy(in, file);
      }
    }
  }

  /**
   * The packaged jar as a child process, like {@link SampleJar}, whose start-up line pattern does
   * not allow the {@code " (mTLS)"} that follows the gRPC port when TLS is on.
   */
  private static final class TlsJar implements AutoCloseable {
    private static final Path JAR = Path.of("target", "sample-user-service.jar");
    private static final Pattern STARTED =
        Pattern.compile("gRPC on [^:]+:(\\d+) \\((m?TLS)\\), admin on port (\\d+)");
    private static final HttpClient http =
        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    final Process process;
    final List<String> log = new CopyOnWriteArrayList<>();
    private volatile int grpcPort;
    private volatile int adminPort;
    private volatile @Nullable String tlsMode;

    private TlsJar(Process process) {
      this.process = process;
      Thread reader = new Thread(this::read, "sample-tls-jar-output");
      reader.setDaemon(true);
      reader.start();
    }

    /** Starts the jar on loopback and free ports with {@code env} added; waits until ready. */
    static TlsJar start(Map<String, String> env) throws IOException {
      assertThat(JAR).as("run after 'package'").exists();
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      ProcessBuilder builder =
          new ProcessBuilder(
                  java,
                  "-Dchassis.grpc.host=127.0.0.1",
                  "-Dchassis.admin.host=127.0.0.1",
                  "-jar",
                  JAR.toString())
              .redirectErrorStream(true);
      builder.environment().put("CHASSIS_GRPC_PORT", "0");
      builder.environment().put("CHASSIS_ADMIN_PORT", "0");
      builder.environment().putAll(env);
      TlsJar jar = new TlsJar(builder.start());
      try {
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> jar.adminPort > 0 || !jar.process.isAlive());
        assertThat(jar.process.isAlive()).as("the jar started; its log: %s", jar.log).isTrue();
        // The admin port stays plaintext HTTP when gRPC uses TLS.
        await()
            .atMost(Duration.ofSeconds(30))
            .ignoreExceptions()
            .until(() -> jar.readiness() == 200);
        return jar;
      } catch (RuntimeException | Error e) {
        jar.close(); // never leave a child process holding ports and connections
        throw e;
      }
    }

    int grpcPort() {
      return grpcPort;
    }

    private int readiness() throws IOException, InterruptedException {
      return http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/health/ready"))
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    }

    /** SIGTERM, then the exit status. */
    int terminate() throws InterruptedException {
      process.toHandle().destroy();
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("exited after SIGTERM").isTrue();
      return process.exitValue();
    }

    @Override
    public void close() {
      process.destroyForcibly();
    }

    private void read() {
      try (BufferedReader reader =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = reader.readLine()) != null) {
          log.add(line);
          Matcher started = STARTED.matcher(line);
          if (adminPort == 0 && started.find()) {
            grpcPort = Integer.parseInt(started.group(1));
            tlsMode = started.group(2);
            adminPort = Integer.parseInt(started.group(3));
          }
        }
      } catch (IOException e) {
        log.add("output closed: " + e);
      }
    }
  }

  private static List<String> texts(JsonNode array) {
    List<String> texts = new ArrayList<>();
    array.forEach(node -> texts.add(node.asText()));
    return texts;
  }
}
