package dev.chassis.benchmarks.cross;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.common.net.HostAndPort;
import dev.chassis.benchmarks.load.CommandLine;
import dev.chassis.benchmarks.load.Targets;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loads a bench server's {@code grpc.testing.BenchmarkService/UnaryCall} with grpc-java's own
 * {@code qps_client} ({@code io.grpc.benchmarks.qps.AsyncClient} from {@code
 * io.grpc:grpc-benchmarks}, 1.79.0: the newest on Maven Central, run on this module's grpc 1.83
 * classpath) in a child JVM, and parses what it prints. AsyncClient keeps {@code
 * --outstanding_rpcs} unary calls in flight on each of {@code --channels} channels (Netty NIO,
 * plaintext), a closed loop; latency is per call, in microseconds, from its own HdrHistogram.
 *
 * <pre>{@code
 * java -cp ... dev.chassis.benchmarks.cross.QpsClient 127.0.0.1:50061 --channels 4 \
 *     --outstanding 10 --duration 10 --warmup 5 --server-payload 100 --json
 * }</pre>
 *
 * <p>Flags: the target {@code host:port}; {@code --channels N} (default 4), {@code --outstanding N}
 * RPCs per channel (default 10), {@code --duration S} and {@code --warmup S} in whole seconds as
 * AsyncClient takes them (defaults 10 and 5), {@code --client-payload B} and {@code
 * --server-payload B} bytes (default 0), {@code --classpath CP} for the child JVM (default this
 * JVM's), {@code --json}. Exit status 0, or 2 for bad flags; a failed call makes AsyncClient (and
 * this) fail: it stops at the first error.
 */
public final class QpsClient {
  /** The qps_client's main class. */
  public static final String ASYNC_CLIENT = "io.grpc.benchmarks.qps.AsyncClient";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern LINE = Pattern.compile("^([^:\\n]+):\\s+(\\d+)\\s*$");

  /** AsyncClient's labels and the JSON keys they become. */
  private static final Map<String, String> KEYS = new LinkedHashMap<>();

  static {
    KEYS.put("Channels", "channels");
    KEYS.put("Outstanding RPCs per Channel", "outstanding_rpcs_per_channel");
    KEYS.put("Server Payload Size", "server_payload_bytes");
    KEYS.put("Client Payload Size", "client_payload_bytes");
    KEYS.put("50%ile Latency (in micros)", "p50_us");
    KEYS.put("90%ile Latency (in micros)", "p90_us");
    KEYS.put("95%ile Latency (in micros)", "p95_us");
    KEYS.put("99%ile Latency (in micros)", "p99_us");
    KEYS.put("99.9%ile Latency (in micros)", "p99.9_us");
    KEYS.put("Maximum Latency (in micros)", "max_us");
    KEYS.put("QPS", "qps");
  }

  private QpsClient() {}

  /**
   * The options of one run; see the class comment for the flags.
   *
   * @param host server host
   * @param port server port
   * @param channels channels, one connection each
   * @param outstanding unary calls kept in flight per channel
   * @param durationSeconds measured seconds
   * @param warmupSeconds seconds of load before, not recorded
   * @param clientPayload request payload bytes
   * @param serverPayload response payload bytes asked for
   * @param classpath the child JVM's class path
   * @param json whether to print JSON
   */
  record Options(
      String host,
      int port,
      int channels,
      int outstanding,
      int durationSeconds,
      int warmupSeconds,
      int clientPayload,
      int serverPayload,
      String classpath,
      boolean json) {
    Options {
      H2load.positive("--channels", channels);
      H2load.positive("--outstanding", outstanding);
      H2load.positive("--duration", durationSeconds);
      if (warmupSeconds < 0 || clientPayload < 0 || serverPayload < 0) {
        throw new IllegalArgumentException(
            "--warmup, --client-payload, --server-payload: expected >= 0");
      }
    }

    /** AsyncClient's arguments. */
    List<String> clientArgs() {
      return List.of(
          "--address=" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port,
          "--transport=netty_nio",
          "--channels=" + channels,
          "--outstanding_rpcs=" + outstanding,
          "--duration=" + durationSeconds,
          "--warmup_duration=" + warmupSeconds,
          "--client_payload=" + clientPayload,
          "--server_payload=" + serverPayload);
    }
  }

  /** Runs qps_client; see the class comment for flags. */
  public static void main(String[] args) throws Exception {
    System.exit(run(args, System.out, System.err));
  }

  static int run(String[] args, PrintStream out, PrintStream err) throws Exception {
    Options options;
    try {
      options = parse(args);
    } catch (IllegalArgumentException e) {
      err.println(e.getMessage());
      err.println(
          "Usage: QpsClient HOST:PORT [--channels N] [--outstanding N] [--duration S]"
              + " [--warmup S] [--client-payload B] [--server-payload B] [--classpath CP]"
              + " [--json]");
      return 2;
    }
    String output = runAsyncClient(options);
    if (options.json()) {
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("tool", "grpc-java qps_client (" + ASYNC_CLIENT + ")");
      json.put("target", options.host() + ":" + options.port());
      json.put("duration_s", options.durationSeconds());
      json.put("warmup_s", options.warmupSeconds());
      json.putAll(parseOutput(output));
      out.println(JSON.writeValueAsString(json));
    } else {
      out.print(output);
    }
    out.flush();
    return 0;
  }

  static Options parse(String[] args) {
    CommandLine line =
        CommandLine.parse(
            args,
            Set.of("--json"),
            Set.of(
                "--channels",
                "--outstanding",
                "--duration",
                "--warmup",
                "--client-payload",
                "--server-payload",
                "--classpath"));
    if (line.target() == null) {
      throw new IllegalArgumentException("HOST:PORT is required");
    }
    HostAndPort parsed = Targets.parse(line.target());
    return new Options(
        parsed.getHost(),
        parsed.getPort(),
        line.integer("--channels", 4),
        line.integer("--outstanding", 10),
        line.integer("--duration", 10),
        line.integer("--warmup", 5),
        line.integer("--client-payload", 0),
        line.integer("--server-payload", 0),
        line.string("--classpath", System.getProperty("java.class.path")),
        line.has("--json"));
  }

  /**
   * Runs AsyncClient in a child JVM (this JVM's {@code java}) and returns what it printed.
   *
   * @throws IOException when it fails, prints no QPS, or runs 60 s past its duration and warm-up
   */
  static String runAsyncClient(Options options) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of("-cp", options.classpath(), ASYNC_CLIENT));
    command.addAll(options.clientArgs());
    Path output = Files.createTempFile("qps-client-", ".out");
    try {
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(output.toFile())
              .start();
      long timeout = options.durationSeconds() + options.warmupSeconds() + 60L;
      if (!process.waitFor(timeout, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new IOException(ASYNC_CLIENT + " did not finish within " + timeout + " s");
      }
      String text = Files.readString(output, StandardCharsets.UTF_8);
      // AsyncClient prints its usage and exits 0 on bad arguments, so look for the result too.
      if (process.exitValue() != 0 || !text.contains("QPS:")) {
        throw new IOException(
            ASYNC_CLIENT + " exited with " + process.exitValue() + " and no result:\n" + text);
      }
      return text;
    } finally {
      Files.deleteIfExists(output);
    }
  }

  /**
   * Parses AsyncClient's result block ({@code QPS: 1234}, {@code 50%ile Latency (in micros): 87}
   * ...) into JSON keys ({@code qps}, {@code p50_us} ...); lines it does not know are ignored.
   *
   * @throws IllegalArgumentException when there is no {@code QPS} line
   */
  static Map<String, Long> parseOutput(String output) {
    Map<String, Long> values = new LinkedHashMap<>();
    for (String line : output.split("\n")) {
      Matcher matcher = LINE.matcher(line.strip());
      if (matcher.matches()) {
        String key = KEYS.get(matcher.group(1).strip());
        if (key != null) {
          values.put(key, Long.parseLong(matcher.group(2)));
        }
      }
    }
    if (!values.containsKey("qps")) {
      throw new IllegalArgumentException("no QPS line in qps_client's output:\n" + output);
    }
    return values;
  }
}
