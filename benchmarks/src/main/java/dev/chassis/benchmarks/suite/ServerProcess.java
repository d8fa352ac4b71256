package dev.chassis.benchmarks.suite;

import com.fasterxml.jackson.databind.JsonNode;
import dev.chassis.benchmarks.servers.BenchServers;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** A {@link BenchServers} server in its own JVM, pinned to the suite's server CPUs. */
final class ServerProcess implements AutoCloseable {
  /** Heap of every server JVM: fixed, so heap sizing does not differ between kinds. */
  static final List<String> SERVER_JVM = List.of("-Xms1g", "-Xmx1g");

  private final ChildProcess process;
  private final String kind;
  private final int port;
  private @Nullable JsonNode stats;
  private boolean stopped;

  private ServerProcess(ChildProcess process, String kind, int port) {
    this.process = process;
    this.kind = kind;
    this.port = port;
  }

  /**
   * Starts {@code kind} on a free loopback port and waits until it serves.
   *
   * @param jvmArgs extra JVM flags (such as a flight recording)
   */
  static ServerProcess start(Suite suite, String kind, List<String> jvmArgs) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Tools.java());
    command.addAll(SERVER_JVM);
    command.addAll(jvmArgs);
    command.addAll(List.of("-cp", classpath(suite, kind), BenchServers.class.getName()));
    command.addAll(List.of("--kind", kind, "--host", "127.0.0.1", "--port", "0"));
    command.addAll(List.of("--users", "1000"));
    ChildProcess process =
        ChildProcess.start(
            "server-" + kind,
            Tools.pinned(suite.options().serverCpus, command),
            Map.of(),
            log(suite, kind));
    try {
      String line = process.awaitLine("listening ", Duration.ofSeconds(60));
      String[] words = line.split(" ");
      return new ServerProcess(process, kind, Integer.parseInt(words[words.length - 1]));
    } catch (Exception e) {
      process.close();
      throw e;
    }
  }

  /**
   * The classpath for {@code kind}: for {@code bare}, {@code bare-fixed} and {@code rest}, without
   * OpenTelemetry's gRPC instrumentation, whose {@code io.grpc.override.ContextStorageOverride}
   * would otherwise make every grpc {@code Context} attach go through OpenTelemetry's context (a
   * cost every Chassis service pays, and bare grpc-java does not).
   */
  static String classpath(Suite suite, String kind) {
    if (!kind.startsWith("bare") && !kind.equals("rest")) {
      return suite.classpath();
    }
    List<String> entries = new ArrayList<>();
    for (String entry : suite.classpath().split(File.pathSeparator)) {
      if (!Path.of(entry).getFileName().toString().startsWith("opentelemetry-grpc-")) {
        entries.add(entry);
      }
    }
    return String.join(File.pathSeparator, entries);
  }

  String kind() {
    return kind;
  }

  int port() {
    return port;
  }

  ChildProcess process() {
    return process;
  }

  /** Stops the server (SIGTERM) and returns the {@code stats} JSON it printed, or null. */
  @Nullable JsonNode stop() throws IOException {
    if (!stopped) {
      stopped = true;
      try {
        process.stop(Duration.ofSeconds(20));
        process.awaitOutputEnd(Duration.ofSeconds(5));
      } catch (InterruptedException e) {
        process.close();
        Thread.currentThread().interrupt();
        return null;
      }
      String line = process.lastLine("stats ");
      stats = line == null ? null : Report.JSON.readTree(line.substring("stats ".length()));
    }
    return stats;
  }

  /** Where the server's stderr goes. */
  static Path log(Suite suite, String kind) {
    return suite.report().dir().resolve("logs").resolve("server-" + kind + ".log");
  }

  @Override
  public void close() throws IOException {
    stop();
  }
}
