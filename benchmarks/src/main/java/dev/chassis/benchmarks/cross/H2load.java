package dev.chassis.benchmarks.cross;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.common.net.HostAndPort;
import com.google.protobuf.MessageLite;
import dev.chassis.benchmarks.load.CommandLine;
import dev.chassis.benchmarks.load.Targets;
import dev.chassis.benchmarks.servers.BenchUserService;
import dev.chassis.sample.user.v1.GetUserRequest;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;

/**
 * Loads a bench server's {@code user.v1.UserService/GetUser} with nghttp2's {@code h2load} (Debian
 * {@code nghttp2-client}), a load generator that knows nothing of gRPC: it POSTs a prepared
 * length-prefixed gRPC frame with {@code content-type: application/grpc} and {@code te: trailers}.
 *
 * <pre>{@code
 * # 20000 requests over 4 connections with 10 streams each, as JSON
 * java -cp ... dev.chassis.benchmarks.cross.H2load 127.0.0.1:50061 -n 20000 -c 4 -m 10 --json
 * # timing-based: 3 s warm-up, 10 s measured
 * java -cp ... dev.chassis.benchmarks.cross.H2load 127.0.0.1:50061 -D 10 --warm-up 3 -c 4 -m 10
 * # after stopping the server (its stdout holds the "stats" line): did the server answer OK?
 * java -cp ... dev.chassis.benchmarks.cross.H2load --verify h2load.json server.out
 * }</pre>
 *
 * <p>Flags: the target {@code host:port}; {@code -n N} requests (default 1000) or {@code -D S}
 * measured seconds with {@code --warm-up S} before; {@code -c C} connections (default 1), {@code -m
 * M} concurrent streams per connection (default 1), {@code -t T} h2load threads (default 1); {@code
 * --id ID} (default the first seeded user); {@code --json}; {@code --timeout S} for the whole
 * h2load run (default 120 + duration + warm-up); {@code --no-trailer-check}.
 *
 * <p>What h2load cannot tell: it counts every stream that ends with HTTP 200 as succeeded, so a
 * gRPC error (HTTP 200, non-zero {@code grpc-status} in the trailers) is a success to it; and it
 * prints no percentiles. So each run also (1) sends the same frame once with {@code nghttp -v} and
 * reads {@code grpc-status} from the trailers ({@code trailer_check}), (2) computes percentiles of
 * h2load's own per-request times from its {@code --log-file} ({@code log_latency_us}), and (3)
 * leaves a count for {@link #compareWithServer}: the server's {@code stats} line must show as many
 * OK calls as h2load counted succeeded, plus the trailer check's one call, and nothing else. That
 * comparison is exact for {@code -n} runs against a server nobody else calls; for {@code -D} runs
 * the server also answered the warm-up and the calls in flight when h2load stopped, so it can only
 * require at least as many OK calls and no other code.
 */
public final class H2load {
  /** The HTTP/2 path of the method called. */
  public static final String GET_USER_PATH = "/user.v1.UserService/GetUser";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern GRPC_STATUS = Pattern.compile("\\bgrpc-status: (\\d+)");
  private static final Pattern GRPC_MESSAGE = Pattern.compile("\\bgrpc-message: (.*)");
  private static final Pattern HTTP_STATUS = Pattern.compile("\\) :status: (\\d+)");

  private H2load() {}

  /**
   * The options of one run; see the class comment for the flags.
   *
   * @param host server host
   * @param port server port
   * @param id the {@code GetUserRequest.id} sent
   * @param requests total requests ({@code -n}); ignored when {@code durationSeconds} is set
   * @param durationSeconds measured seconds ({@code -D}), or 0 to run {@code requests}
   * @param warmupSeconds seconds before the measurement ({@code --warm-up-time}), only with -D
   * @param clients connections ({@code -c})
   * @param streams concurrent streams per connection ({@code -m})
   * @param threads h2load threads ({@code -t})
   * @param timeoutSeconds how long to wait for h2load before killing it
   * @param trailerCheck whether to send one request with {@code nghttp -v} and read its trailers
   * @param json whether to print JSON
   */
  record Options(
      String host,
      int port,
      String id,
      long requests,
      int durationSeconds,
      int warmupSeconds,
      int clients,
      int streams,
      int threads,
      int timeoutSeconds,
      boolean trailerCheck,
      boolean json) {
    Options {
      positive("-n", requests);
      positive("-c", clients);
      positive("-m", streams);
      positive("-t", threads);
      positive("--timeout", timeoutSeconds);
      if (durationSeconds < 0) {
        throw new IllegalArgumentException("-D: " + durationSeconds + " (expected: >= 0)");
      }
      if (warmupSeconds < 0 || (warmupSeconds > 0 && durationSeconds == 0)) {
        throw new IllegalArgumentException(
            "--warm-up: " + warmupSeconds + " (expected: >= 0, and only with -D)");
      }
      if (threads > clients) {
        throw new IllegalArgumentException("-t: " + threads + " (expected: <= -c " + clients + ")");
      }
    }

    /** The defaults against {@code host:port}: 1000 requests on one connection and stream. */
    static Options defaults(String host, int port) {
      return new Options(
          host, port, BenchUserService.seedId(0), 1000, 0, 0, 1, 1, 1, 120, true, false);
    }

    String url() {
      String literal = host.contains(":") ? "[" + host + "]" : host;
      return "http://" + literal + ":" + port + GET_USER_PATH;
    }

    String mode() {
      return durationSeconds > 0 ? "duration" : "requests";
    }
  }

  /**
   * The outcome of one run.
   *
   * @param options what was run
   * @param version h2load's version line
   * @param command the h2load command line
   * @param output h2load's text output
   * @param result what h2load printed, with the log file's percentiles
   * @param trailerCheck the separate {@code nghttp -v} call, or null when skipped
   */
  record Run(
      Options options,
      String version,
      List<String> command,
      String output,
      H2loadResult result,
      @Nullable TrailerCheck trailerCheck) {
    Map<String, Object> toMap() {
      Map<String, Object> map = new LinkedHashMap<>();
      map.put("tool", "h2load");
      map.put("version", version);
      map.put("url", options.url());
      map.put("mode", options.mode());
      if (options.durationSeconds() > 0) {
        map.put("duration_s", options.durationSeconds());
        map.put("warmup_s", options.warmupSeconds());
      } else {
        map.put("requests", options.requests());
      }
      map.put("clients", options.clients());
      map.put("streams_per_client", options.streams());
      map.put("threads", options.threads());
      map.put("command", command);
      map.putAll(result.toMap());
      map.put(
          "note",
          "h2load prints no percentiles (request_time_us is its min/max/mean/sd);"
              + " log_latency_us is computed from its --log-file. h2load counts HTTP 200 as"
              + " succeeded whatever grpc-status says: compare with the server's outcomes.");
      if (trailerCheck != null) {
        map.put("trailer_check", trailerCheck.toMap());
      }
      return map;
    }
  }

  /**
   * One request sent with {@code nghttp -v}, its response headers and trailers read.
   *
   * @param httpStatus the {@code :status}, or -1 if none was seen
   * @param grpcStatus the {@code grpc-status}, or -1 if none was seen
   * @param grpcMessage the {@code grpc-message}, or empty
   */
  public record TrailerCheck(int httpStatus, int grpcStatus, String grpcMessage) {
    /** Whether the call was a gRPC OK: HTTP 200 and {@code grpc-status: 0}. */
    public boolean ok() {
      return httpStatus == 200 && grpcStatus == 0;
    }

    /** Parses the output of {@code nghttp -v}. */
    public static TrailerCheck parse(String verboseOutput) {
      Matcher http = HTTP_STATUS.matcher(verboseOutput);
      Matcher grpc = GRPC_STATUS.matcher(verboseOutput);
      Matcher message = GRPC_MESSAGE.matcher(verboseOutput);
      return new TrailerCheck(
          http.find() ? Integer.parseInt(http.group(1)) : -1,
          grpc.find() ? Integer.parseInt(grpc.group(1)) : -1,
          message.find() ? message.group(1).strip() : "");
    }

    Map<String, Object> toMap() {
      Map<String, Object> map = new LinkedHashMap<>();
      map.put("tool", "nghttp -v");
      map.put("http_status", httpStatus);
      map.put("grpc_status", grpcStatus);
      if (!grpcMessage.isEmpty()) {
        map.put("grpc_message", grpcMessage);
      }
      map.put("ok", ok());
      return map;
    }
  }

  /**
   * h2load's count set against the server's.
   *
   * @param h2loadSucceeded requests h2load counted succeeded
   * @param extraOkCalls OK calls the server answered for the check itself (the trailer check)
   * @param serverOk calls the server answered OK
   * @param serverOther calls the server answered with any other code
   * @param exact whether equality is expected ({@code -n} runs) or only at least ({@code -D})
   * @param passed whether the counts agree
   */
  public record ServerCheck(
      long h2loadSucceeded,
      long extraOkCalls,
      long serverOk,
      long serverOther,
      boolean exact,
      boolean passed) {
    /** The check as JSON-ready values. */
    public Map<String, Object> toMap() {
      Map<String, Object> map = new LinkedHashMap<>();
      map.put("h2load_succeeded", h2loadSucceeded);
      map.put("extra_ok_calls", extraOkCalls);
      map.put("server_ok", serverOk);
      map.put("server_not_ok", serverOther);
      map.put(
          "expect",
          (exact ? "server_ok == " : "server_ok >= ")
              + "h2load_succeeded + extra_ok_calls, server_not_ok == 0");
      map.put("passed", passed);
      return map;
    }
  }

  /** Runs h2load (or {@code --verify}); see the class comment for flags. */
  public static void main(String[] args) throws Exception {
    System.exit(run(args, System.out, System.err));
  }

  static int run(String[] args, PrintStream out, PrintStream err) throws Exception {
    if (args.length > 0 && args[0].equals("--verify")) {
      if (args.length != 3) {
        err.println("Usage: H2load --verify H2LOAD_JSON_FILE SERVER_STDOUT_FILE");
        return 2;
      }
      return verify(Path.of(args[1]), Path.of(args[2]), out);
    }
    Options options;
    try {
      options = parse(args);
    } catch (IllegalArgumentException e) {
      err.println(e.getMessage());
      err.println(
          "Usage: H2load HOST:PORT [-n N | -D S [--warm-up S]] [-c C] [-m M] [-t T] [--id ID]"
              + " [--timeout S] [--no-trailer-check] [--json]");
      return 2;
    }
    Run run = run(options);
    if (options.json()) {
      out.println(JSON.writeValueAsString(run.toMap()));
    } else {
      out.print(run.output());
      Map<String, Long> percentiles = run.result().logLatencyMicros();
      if (percentiles != null) {
        out.println("percentiles from --log-file (us): " + percentiles);
      }
      if (run.trailerCheck() != null) {
        out.println("trailer check (nghttp -v): " + run.trailerCheck().toMap());
      }
    }
    out.flush();
    return 0;
  }

  static Options parse(String[] args) {
    Options defaults = Options.defaults("127.0.0.1", 50051);
    CommandLine line =
        CommandLine.parse(
            args,
            Set.of("--json", "--no-trailer-check"),
            Set.of("-n", "-D", "--warm-up", "-c", "-m", "-t", "--id", "--timeout"));
    if (line.target() == null) {
      throw new IllegalArgumentException("HOST:PORT is required");
    }
    HostAndPort target = Targets.parse(line.target());
    int duration = line.integer("-D", 0);
    int warmup = line.integer("--warm-up", 0);
    return new Options(
        target.getHost(),
        target.getPort(),
        line.string("--id", defaults.id()),
        line.longInteger("-n", defaults.requests()),
        duration,
        warmup,
        line.integer("-c", 1),
        line.integer("-m", 1),
        line.integer("-t", 1),
        line.integer("--timeout", 120 + duration + warmup),
        !line.has("--no-trailer-check"),
        line.has("--json"));
  }

  /**
   * One gRPC length-prefixed message: flag byte 0 (not compressed), the length as 4 bytes big
   * endian, the serialized message.
   */
  public static byte[] grpcFrame(MessageLite message) {
    byte[] body = message.toByteArray();
    return ByteBuffer.allocate(5 + body.length).put((byte) 0).putInt(body.length).put(body).array();
  }

  /** The h2load command line; {@code -d} makes it a POST with the frame as body. */
  static List<String> command(Options options, Path frame, Path logFile) {
    List<String> command = new ArrayList<>();
    command.add("h2load");
    if (options.durationSeconds() > 0) {
      command.addAll(List.of("-D", Integer.toString(options.durationSeconds())));
      if (options.warmupSeconds() > 0) {
        command.addAll(List.of("--warm-up-time", Integer.toString(options.warmupSeconds())));
      }
    } else {
      command.addAll(List.of("-n", Long.toString(options.requests())));
    }
    command.addAll(List.of("-c", Integer.toString(options.clients())));
    command.addAll(List.of("-m", Integer.toString(options.streams())));
    command.addAll(List.of("-t", Integer.toString(options.threads())));
    command.addAll(List.of("-H", "content-type: application/grpc"));
    command.addAll(List.of("-H", "te: trailers"));
    command.addAll(List.of("-d", frame.toString()));
    command.addAll(List.of("--log-file", logFile.toString()));
    command.add(options.url());
    return command;
  }

  /** Runs the trailer check (unless turned off), then h2load, and parses what they print. */
  static Run run(Options options) throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("h2load-");
    try {
      Path frame = dir.resolve("get-user.grpc");
      Files.write(frame, grpcFrame(GetUserRequest.newBuilder().setId(options.id()).build()));
      TrailerCheck trailers = null;
      if (options.trailerCheck()) {
        trailers = checkTrailers(options.url(), frame);
      }
      String version = exec(List.of("h2load", "--version"), Duration.ofSeconds(10)).strip();
      Path log = dir.resolve("requests.log");
      List<String> command = command(options, frame, log);
      String output = exec(command, Duration.ofSeconds(options.timeoutSeconds()));
      H2loadResult result = H2loadResult.parse(output).withLogLatency(logPercentiles(log));
      return new Run(options, version, command, output, result, trailers);
    } finally {
      try (Stream<Path> files = Files.list(dir)) {
        for (Iterator<Path> it = files.iterator(); it.hasNext(); ) {
          Files.deleteIfExists(it.next());
        }
      }
      Files.deleteIfExists(dir);
    }
  }

  /** Sends {@code frame} once with {@code nghttp -v} and reads the status it got. */
  static TrailerCheck checkTrailers(String url, Path frame)
      throws IOException, InterruptedException {
    String output =
        exec(
            List.of(
                "nghttp",
                "-v",
                "-n",
                "-H",
                "content-type: application/grpc",
                "-H",
                "te: trailers",
                "-d",
                frame.toString(),
                url),
            Duration.ofSeconds(30));
    return TrailerCheck.parse(output);
  }

  /**
   * Percentiles of the request times in h2load's {@code --log-file} (third column, microseconds
   * until the end of the response; rows with status -1, failed streams, left out), or null when the
   * log has no rows.
   */
  static @Nullable Map<String, Long> logPercentiles(Path log) throws IOException {
    if (!Files.exists(log)) {
      return null;
    }
    Histogram histogram = new Histogram(3);
    try (Stream<String> lines = Files.lines(log, StandardCharsets.US_ASCII)) {
      lines.forEach(
          line -> {
            String[] columns = line.split("\t");
            if (columns.length >= 3 && !columns[1].equals("-1")) {
              histogram.recordValue(Long.parseLong(columns[2].strip()));
            }
          });
    }
    if (histogram.getTotalCount() == 0) {
      return null;
    }
    Map<String, Long> percentiles = new LinkedHashMap<>();
    percentiles.put("count", histogram.getTotalCount());
    percentiles.put("p50", histogram.getValueAtPercentile(50));
    percentiles.put("p90", histogram.getValueAtPercentile(90));
    percentiles.put("p99", histogram.getValueAtPercentile(99));
    percentiles.put("p99.9", histogram.getValueAtPercentile(99.9));
    percentiles.put("max", histogram.getMaxValue());
    return percentiles;
  }

  /**
   * Sets h2load's succeeded count against the calls the server answered.
   *
   * @param h2loadSucceeded requests h2load counted succeeded ({@link H2loadResult#succeeded()})
   * @param extraOkCalls OK calls sent besides h2load's (1 after a passed trailer check)
   * @param serverOutcomes the server's {@code outcomes} (gRPC code name to count), taken after the
   *     run, from a server that counted nothing before it
   * @param exact true for {@code -n} runs (equality expected), false for {@code -D} runs
   */
  public static ServerCheck compareWithServer(
      long h2loadSucceeded, long extraOkCalls, Map<String, Long> serverOutcomes, boolean exact) {
    long ok = serverOutcomes.getOrDefault("OK", 0L);
    long other = 0;
    for (Map.Entry<String, Long> entry : serverOutcomes.entrySet()) {
      if (!entry.getKey().equals("OK")) {
        other += entry.getValue();
      }
    }
    long expected = h2loadSucceeded + extraOkCalls;
    boolean passed = other == 0 && (exact ? ok == expected : ok >= expected);
    return new ServerCheck(h2loadSucceeded, extraOkCalls, ok, other, exact, passed);
  }

  /**
   * The {@code outcomes} of a bench server's {@code stats} line ({@code stats {"outcomes":{...}}}),
   * the last one in {@code serverOutput}.
   *
   * @throws IllegalArgumentException when there is none
   */
  public static Map<String, Long> outcomesFromStats(String serverOutput) throws IOException {
    String stats = null;
    for (String line : serverOutput.split("\n")) {
      if (line.startsWith("stats ")) {
        stats = line.substring("stats ".length());
      }
    }
    if (stats == null) {
      throw new IllegalArgumentException("no 'stats {...}' line in the server's output");
    }
    JsonNode outcomes = JSON.readTree(stats).path("outcomes");
    Map<String, Long> counts = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> entry : outcomes.properties()) {
      counts.put(entry.getKey(), entry.getValue().asLong());
    }
    return counts;
  }

  private static int verify(Path resultFile, Path serverOutput, PrintStream out)
      throws IOException {
    JsonNode run = JSON.readTree(Files.readString(resultFile));
    long succeeded = run.path("succeeded").asLong();
    long extra = run.path("trailer_check").path("ok").asBoolean(false) ? 1 : 0;
    boolean exact = run.path("mode").asText().equals("requests");
    Map<String, Long> outcomes = outcomesFromStats(Files.readString(serverOutput));
    ServerCheck check = compareWithServer(succeeded, extra, outcomes, exact);
    Map<String, Object> json = new LinkedHashMap<>(check.toMap());
    json.put("server_outcomes", outcomes);
    out.println(JSON.writeValueAsString(json));
    out.flush();
    return check.passed() ? 0 : 1;
  }

  static void positive(String flag, long value) {
    if (value <= 0) {
      throw new IllegalArgumentException(flag + ": " + value + " (expected: > 0)");
    }
  }

  /** Runs {@code command}, returns stdout and stderr together; fails on a non-zero exit. */
  private static String exec(List<String> command, Duration timeout)
      throws IOException, InterruptedException {
    Path output = Files.createTempFile("cross-", ".out");
    try {
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(output.toFile())
              .start();
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new IOException(command.get(0) + " did not finish within " + timeout);
      }
      String text = Files.readString(output, StandardCharsets.UTF_8);
      if (process.exitValue() != 0) {
        throw new IOException(
            String.join(" ", command) + " exited with " + process.exitValue() + ":\n" + text);
      }
      return text;
    } finally {
      Files.deleteIfExists(output);
    }
  }
}
