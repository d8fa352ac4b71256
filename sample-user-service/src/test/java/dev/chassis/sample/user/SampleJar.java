package dev.chassis.sample.user;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The packaged sample jar as a child process on loopback and free ports, with its log lines. */
final class SampleJar implements AutoCloseable {
  private static final Path JAR = Path.of("target", "sample-user-service.jar");
  private static final Pattern STARTED =
      Pattern.compile("gRPC on [^:]+:(\\d+)(?: \\(m?TLS\\))?, admin on port (\\d+)");
  private static final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  final Process process;
  final List<String> log = new CopyOnWriteArrayList<>();
  private volatile int grpcPort;
  private volatile int adminPort;

  private SampleJar(Process process) {
    this.process = process;
    Thread reader = new Thread(this::read, "sample-jar-output");
    reader.setDaemon(true);
    reader.start();
  }

  /** Starts the jar with {@code env} added and waits until it is ready. */
  static SampleJar start(Map<String, String> env) throws IOException {
    return start(env, List.of());
  }

  /**
   * Starts the jar with {@code env} and the JVM options {@code jvmArgs} (such as {@code -Dk=v}).
   */
  static SampleJar start(Map<String, String> env, List<String> jvmArgs) throws IOException {
    assertThat(JAR).as("run after 'package'").exists();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new ArrayList<>();
    command.add(java);
    command.add("-Dchassis.grpc.host=127.0.0.1");
    command.add("-Dchassis.admin.host=127.0.0.1");
    command.add("-Dchassis.health.check-interval=200ms");
    command.addAll(jvmArgs);
    command.add("-jar");
    command.add(JAR.toString());
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("CHASSIS_GRPC_PORT", "0");
    builder.environment().put("CHASSIS_ADMIN_PORT", "0");
    builder.environment().putAll(env);
    SampleJar jar = new SampleJar(builder.start());
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> jar.adminPort > 0 || !jar.process.isAlive());
      assertThat(jar.process.isAlive()).as("the jar started; its log: %s", jar.log).isTrue();
      await()
          .atMost(Duration.ofSeconds(30))
          .ignoreExceptions()
          .until(() -> jar.get("/health/ready").statusCode() == 200);
      return jar;
    } catch (RuntimeException | Error e) {
      jar.close(); // never leave a child process holding ports and connections
      throw e;
    }
  }

  int grpcPort() {
    return grpcPort;
  }

  /** The index of the first log line containing {@code text}, or -1. */
  int logIndexOf(String text) {
    for (int i = 0; i < log.size(); i++) {
      if (log.get(i).contains(text)) {
        return i;
      }
    }
    return -1;
  }

  HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
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
          adminPort = Integer.parseInt(started.group(2));
        }
      }
    } catch (IOException e) {
      log.add("output closed: " + e);
    }
  }
}
