package dev.chassis.sample.user;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs the Node.js client ({@code @grpc/grpc-js}, {@code src/test/node/e2e.mjs}) against a running
 * sample and checks what it saw: health, reflection, all five methods of {@code user.v1} including
 * the bidirectional stream, and the error model.
 */
final class NodeE2eClient {
  private static final Path NODE_CLIENT = Path.of("src", "test", "node");
  private static final ObjectMapper json = new ObjectMapper();

  private NodeE2eClient() {}

  /** Drives every method against {@code 127.0.0.1:port}; {@code protos} is an empty directory. */
  static void driveEveryMethod(int grpcPort, Path protos) throws Exception {
    prepare(protos);
    assertEveryMethodWorked(run(grpcPort, protos));
  }

  /** Makes sure the client can run (or skips), and puts the protos it loads in {@code protos}. */
  static void prepare(Path protos) throws Exception {
    requireNodeClient();
    extractProtos(protos);
  }

  /**
   * Runs {@code e2e.mjs} against {@code 127.0.0.1:port} with {@code flags} added (such as {@code
   * --ca}, {@code --cert}, {@code --key} for mTLS) and returns the JSON it printed; it exits 0 when
   * every step ran, whether the steps succeeded or not.
   */
  static JsonNode run(int grpcPort, Path protos, String... flags) throws Exception {
    List<String> arguments =
        new ArrayList<>(
            List.of(
                "--target",
                "127.0.0.1:" + grpcPort,
                "--protos",
                protos.toAbsolutePath().toString()));
    arguments.addAll(List.of(flags));
    Path stderr = Files.createTempFile("node-e2e-", ".err");
    try {
      return runScript("e2e.mjs", arguments, stderr, Duration.ofSeconds(90));
    } finally {
      Files.deleteIfExists(stderr);
    }
  }

  /**
   * Runs {@code node script arguments...} in the Node project, waits at most {@code timeout},
   * requires exit status 0 and returns the one JSON object it printed; stderr goes to {@code
   * stderr}.
   */
  static JsonNode runScript(String script, List<String> arguments, Path stderr, Duration timeout)
      throws Exception {
    List<String> command = new ArrayList<>(List.of("node", script));
    command.addAll(arguments);
    // Output to files, not pipes: nothing to drain while waiting, and the wait is bounded.
    Path stdout = Files.createTempFile("node-" + script + "-", ".out");
    try {
      Process node =
          new ProcessBuilder(command)
              .directory(NODE_CLIENT.toFile())
              .redirectOutput(stdout.toFile())
              .redirectError(stderr.toFile())
              .start();
      try {
        assertThat(node.waitFor(timeout.toSeconds(), TimeUnit.SECONDS))
            .as("%s finished", script)
            .isTrue();
      } finally {
        node.destroyForcibly();
      }
      String out = Files.readString(stdout, StandardCharsets.UTF_8);
      assertThat(node.exitValue())
          .as("%s exit status; stdout: %s; stderr: %s", script, out, Files.readString(stderr))
          .isZero();
      return json.readTree(out);
    } finally {
      Files.deleteIfExists(stdout);
    }
  }

  /** Checks a run in which every call reached the service. */
  static void assertEveryMethodWorked(JsonNode result) {
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

  /**
   * The Node clients need {@code node} and the npm packages of {@code src/test/node} (this client
   * and {@code grpc-web-e2e.mjs} share one {@code package.json}). When they are missing and {@code
   * npm} is on the PATH they are installed with {@code npm ci} (as {@code .ci/run} does); otherwise
   * the test is skipped with a message, except under CI, where it fails.
   */
  static void requireNodeClient() throws Exception {
    List<Path> packages =
        List.of(
            NODE_CLIENT.resolve("node_modules/@grpc/grpc-js"),
            NODE_CLIENT.resolve("node_modules/playwright-core"),
            NODE_CLIENT.resolve("node_modules/esbuild"));
    if (!packages.stream().allMatch(Files::isDirectory) && onPath("npm")) {
      Process npm =
          new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund")
              .directory(NODE_CLIENT.toFile())
              .redirectErrorStream(true)
              .start();
      String log = new String(npm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(npm.waitFor(180, TimeUnit.SECONDS)).as("npm ci finished").isTrue();
      assertThat(npm.exitValue()).as("npm ci: %s", log).isZero();
    }
    boolean ready = packages.stream().allMatch(Files::isDirectory) && onPath("node");
    String message =
        "needs Node.js and npm (Debian packages nodejs and npm) for the Node clients; "
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
    for (String dir : path.split(java.io.File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dir, command))) {
        return true;
      }
    }
    return false;
  }

  /** The protos the Node clients load, laid out by import path, taken from the class path. */
  static void extractProtos(Path dir) throws IOException {
    for (String proto :
        List.of(
            "user/v1/user.proto",
            "grpc/health/v1/health.proto",
            "grpc/reflection/v1/reflection.proto",
            "google/rpc/status.proto",
            "google/rpc/error_details.proto",
            "google/rpc/code.proto")) {
      try (InputStream in =
          SampleServiceProcessIT.class.getClassLoader().getResourceAsStream(proto)) {
        assertThat(in).as(proto + " on the class path").isNotNull();
        Path target = dir.resolve(proto);
        Files.createDirectories(target.getParent());
        Files.copy(in, target);
      }
    }
  }

  private static List<String> texts(JsonNode array) {
    List<String> texts = new ArrayList<>();
    array.forEach(node -> texts.add(node.asText()));
    return texts;
  }
}
