package dev.chassis.benchmarks.load;

import com.google.common.net.HostAndPort;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.chassis.benchmarks.servers.BenchUserService;
import dev.chassis.sample.user.v1.CreateUserRequest;
import dev.chassis.sample.user.v1.GetUserRequest;
import dev.chassis.sample.user.v1.ListUsersRequest;
import dev.chassis.sample.user.v1.UserServiceGrpc;
import io.grpc.MethodDescriptor;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongFunction;
import org.jspecify.annotations.Nullable;

/**
 * A load generator for the benchmark servers in the spirit of ghz: one method or endpoint, a closed
 * or open model, latency percentiles from HdrHistogram and outcomes by status code.
 *
 * <pre>{@code
 * # gRPC, closed model: 50 workers with one call in flight each, over 2 connections, 10 s measured
 * java -cp ... dev.chassis.benchmarks.load.LoadMain 127.0.0.1:50051 --method GetUser \
 *     --concurrency 50 --connections 2 --warmup 3s --duration 10s
 * # gRPC, open model: 2000 calls/s whatever the server does (no coordinated omission), as JSON
 * java -cp ... dev.chassis.benchmarks.load.LoadMain 127.0.0.1:50051 --method ListUsers \
 *     --page-size 10 --rate 2000 --duration 10s --json
 * # REST (BenchServers --kind rest)
 * java -cp ... dev.chassis.benchmarks.load.LoadMain 127.0.0.1:8080 --rest 'GET /v1/users/{id}' \
 *     --concurrency 50 --duration 10s
 * }</pre>
 *
 * <p>Flags (the target {@code host:port} is the one positional argument, or {@code --target}):
 *
 * <ul>
 *   <li>{@code --method GetUser|ListUsers|CreateUser|Health}: the gRPC method (default GetUser); or
 *       {@code --rest 'METHOD /path'}: a REST endpoint, {@code {id}}, {@code {page_size}} and
 *       {@code {n}} replaced in the path.
 *   <li>{@code --concurrency C}: closed model, C workers (default 10); or {@code --rate R}: open
 *       model, R calls started per second, at most {@code --max-outstanding} (default 10000) in
 *       flight, calls due beyond that counted as not sent.
 *   <li>{@code --duration D} measured (default 10s) or {@code --calls N} measured calls; {@code
 *       --warmup W} before, not recorded (default 0s). Durations: {@code 500ms}, {@code 10s},
 *       {@code 2m} or plain seconds.
 *   <li>{@code --id ID} (default the first seeded user), {@code --page-size N} (default 10), {@code
 *       --page-token T}, {@code --name}, {@code --email} (CreateUser; default {@code
 *       bench-{n}@example.com}, {@code {n}} being unique per call), {@code --service S} (Health);
 *       or {@code --data-file F}: the request as JSON, parsed with {@code JsonFormat} into the
 *       method's request message (for REST: the request body), {@code {n}} replaced in CreateUser
 *       names and emails.
 *   <li>{@code --connections K}: gRPC channels (one TCP connection each), calls spread round-robin
 *       (default 1). {@code --timeout T}: each call's deadline (default 10s).
 *   <li>{@code --json}: print the result as one JSON object instead of text.
 * </ul>
 *
 * <p>Latency is of successful calls, in microseconds: from the send in the closed model, from the
 * intended send in the open model. Throughput counts every call with an outcome. Exit status: 0, or
 * 2 for bad flags.
 */
public final class LoadMain {
  private LoadMain() {}

  /** Runs one load test; see the class comment for flags. */
  public static void main(String[] args) throws Exception {
    System.exit(run(args, System.out, System.err));
  }

  /**
   * Runs one load test in this JVM, printing to {@code out} (one JSON object with {@code --json})
   * and problems to {@code err}; returns the exit status. The benchmark suite drives its load this
   * way.
   */
  public static int run(String[] args, PrintStream out, PrintStream err) throws Exception {
    LoadOptions options;
    try {
      options = LoadOptions.parse(args);
    } catch (IllegalArgumentException e) {
      err.println(e.getMessage());
      err.println("Run with --help for the flags.");
      return 2;
    }
    if (options == null) {
      out.println(LoadOptions.USAGE);
      return 0;
    }
    LoadResult result;
    try (CallTarget target = newTarget(options)) {
      result = run(options, target);
    }
    out.print(options.json ? result.toJson() + "\n" : result.toText());
    out.flush();
    return 0;
  }

  /** Runs the options' model against {@code target}. */
  static LoadResult run(LoadOptions options, CallTarget target) throws InterruptedException {
    LoadRunner runner =
        new LoadRunner(target, options.warmup, options.duration, options.calls, options.timeout);
    return options.rate > 0
        ? runner.runOpen(options.rate, options.maxOutstanding)
        : runner.runClosed(options.concurrency);
  }

  /**
   * Parses a duration as the flags take it: {@code 500ms}, {@code 10s}, {@code 2m} or plain
   * seconds.
   *
   * @throws IllegalArgumentException naming {@code flag} when {@code value} is not one
   */
  public static Duration parseDuration(String flag, String value) {
    return LoadOptions.duration(flag, value);
  }

  static CallTarget newTarget(LoadOptions options) throws IOException {
    // Unique per run, so CreateUser's {n} emails do not collide with an earlier run's.
    String runId = Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
    String data = options.dataFile == null ? null : Files.readString(Path.of(options.dataFile));
    if (options.rest != null) {
      return restTarget(options, runId, data);
    }
    return grpcTarget(options, runId, data);
  }

  private static CallTarget restTarget(LoadOptions options, String runId, @Nullable String data) {
    String[] parts = options.rest.trim().split("\\s+", 2);
    if (parts.length != 2 || !parts[1].startsWith("/")) {
      throw new IllegalArgumentException(
          "--rest: " + options.rest + " (expected: 'METHOD /path', such as 'GET /v1/users/{id}')");
    }
    String method = parts[0].toUpperCase(Locale.ROOT);
    String template =
        parts[1]
            .replace("{id}", options.id)
            .replace("{page_size}", Integer.toString(options.pageSize));
    boolean perCall = template.contains("{n}");
    LongFunction<String> paths =
        perCall ? n -> template.replace("{n}", runId + "-" + n) : n -> template;
    String bodyTemplate;
    if (data != null) {
      bodyTemplate = data;
    } else if (method.equals("POST") || method.equals("PUT")) {
      bodyTemplate =
          "{\"name\":\"" + json(options.name) + "\",\"email\":\"" + json(options.email) + "\"}";
    } else {
      bodyTemplate = "";
    }
    LongFunction<String> bodies =
        bodyTemplate.contains("{n}")
            ? n -> bodyTemplate.replace("{n}", runId + "-" + n)
            : n -> bodyTemplate;
    return new RestTarget(
        options.host, options.port, method, parts[1], paths, bodies, options.timeout);
  }

  private static CallTarget grpcTarget(LoadOptions options, String runId, @Nullable String data)
      throws InvalidProtocolBufferException {
    MethodDescriptor<? extends Message, ? extends Message> method;
    Message.Builder request;
    switch (options.method) {
      case "GetUser" -> {
        method = UserServiceGrpc.getGetUserMethod();
        request = GetUserRequest.newBuilder().setId(options.id);
      }
      case "ListUsers" -> {
        method = UserServiceGrpc.getListUsersMethod();
        request =
            ListUsersRequest.newBuilder()
                .setPageSize(options.pageSize)
                .setPageToken(options.pageToken);
      }
      case "CreateUser" -> {
        method = UserServiceGrpc.getCreateUserMethod();
        request = CreateUserRequest.newBuilder().setName(options.name).setEmail(options.email);
      }
      case "Health" -> {
        method = HealthGrpc.getCheckMethod();
        request = HealthCheckRequest.newBuilder().setService(options.service);
      }
      default ->
          throw new IllegalArgumentException(
              "--method: "
                  + options.method
                  + " (expected: GetUser, ListUsers, CreateUser or Health)");
    }
    if (data != null) {
      request.clear();
      JsonFormat.parser().merge(data, request);
    }
    Message prototype = request.build();
    LongFunction<Message> requests;
    if (prototype instanceof CreateUserRequest create
        && (create.getName().contains("{n}") || create.getEmail().contains("{n}"))) {
      requests =
          n -> {
            String unique = runId + "-" + n;
            return create.toBuilder()
                .setName(create.getName().replace("{n}", unique))
                .setEmail(create.getEmail().replace("{n}", unique))
                .build();
          };
    } else {
      requests = n -> prototype;
    }
    return new GrpcTarget(
        options.host,
        options.port,
        options.connections,
        method,
        requests,
        options.timeout.toNanos());
  }

  private static String json(String value) {
    return value.replace("\\", "\\\\").replace("\"", "\\\"");
  }

  /** The command-line flags. */
  static final class LoadOptions {
    static final String USAGE =
        String.join(
            "\n",
            "Usage: LoadMain HOST:PORT [flags]",
            "  --method GetUser|ListUsers|CreateUser|Health   gRPC method (default GetUser)",
            "  --rest 'METHOD /path'   REST endpoint instead; {id} {page_size} {n} replaced",
            "  --concurrency C         closed model: C workers (default 10)",
            "  --rate R                open model: R calls/s started on schedule",
            "  --max-outstanding N     open model: calls in flight at most (default 10000)",
            "  --duration D | --calls N   measured part (default 10s)",
            "  --warmup W              not recorded, before (default 0s)",
            "  --connections K         gRPC channels (default 1)",
            "  --timeout T             per-call deadline (default 10s)",
            "  --id ID --page-size N --page-token T --name S --email S --service S",
            "  --data-file F           request as JSON (JsonFormat; REST: the body)",
            "  --json                  print one JSON object");

    String host = "";
    int port;
    String method = "GetUser";
    @Nullable String rest;
    int concurrency = 10;
    double rate;
    int maxOutstanding = 10_000;
    Duration duration = Duration.ofSeconds(10);
    long calls;
    Duration warmup = Duration.ZERO;
    int connections = 1;
    Duration timeout = Duration.ofSeconds(10);
    String id = BenchUserService.seedId(0);
    int pageSize = 10;
    String pageToken = "";
    String name = "Bench User {n}";
    String email = "bench-{n}@example.com";
    String service = "";
    @Nullable String dataFile;
    boolean json;

    /**
     * Parses flags; null for {@code --help}.
     *
     * @throws IllegalArgumentException naming the flag, the value and what was expected
     */
    static @Nullable LoadOptions parse(String[] args) {
      CommandLine line =
          CommandLine.parse(
              args,
              Set.of("--help", "-h", "--json"),
              Set.of(
                  "--target",
                  "--method",
                  "--rest",
                  "--concurrency",
                  "--rate",
                  "--max-outstanding",
                  "--duration",
                  "--calls",
                  "--warmup",
                  "--connections",
                  "--timeout",
                  "--id",
                  "--page-size",
                  "--page-token",
                  "--name",
                  "--email",
                  "--service",
                  "--data-file"));
      if (line.has("--help") || line.has("-h")) {
        return null;
      }
      LoadOptions options = new LoadOptions();
      options.json = line.has("--json");
      options.method = line.string("--method", options.method);
      options.rest = line.value("--rest");
      options.concurrency = positive("--concurrency", line.integer("--concurrency", 10));
      options.rate = line.decimal("--rate", 0);
      if (line.value("--rate") != null && !(options.rate > 0)) {
        throw new IllegalArgumentException("--rate: " + line.value("--rate") + " (expected: > 0)");
      }
      options.maxOutstanding =
          positive("--max-outstanding", line.integer("--max-outstanding", options.maxOutstanding));
      options.duration = nonZeroDuration(line, "--duration", options.duration);
      options.calls =
          line.value("--calls") == null ? 0 : positive("--calls", line.longInteger("--calls", 0));
      options.warmup =
          line.value("--warmup") == null
              ? options.warmup
              : duration("--warmup", line.string("--warmup", ""));
      options.connections = positive("--connections", line.integer("--connections", 1));
      options.timeout = nonZeroDuration(line, "--timeout", options.timeout);
      options.id = line.string("--id", options.id);
      options.pageSize = line.integer("--page-size", options.pageSize);
      if (options.pageSize < 0) {
        throw new IllegalArgumentException(
            "--page-size: " + options.pageSize + " (expected: >= 0)");
      }
      options.pageToken = line.string("--page-token", options.pageToken);
      options.name = line.string("--name", options.name);
      options.email = line.string("--email", options.email);
      options.service = line.string("--service", options.service);
      options.dataFile = line.value("--data-file");
      String target = line.value("--target") != null ? line.value("--target") : line.target();
      if (target == null) {
        throw new IllegalArgumentException("missing target HOST:PORT");
      }
      HostAndPort parsed = Targets.parse(target);
      options.host = parsed.getHost();
      options.port = parsed.getPort();
      if (options.rate > 0 && line.value("--concurrency") != null) {
        throw new IllegalArgumentException("--rate and --concurrency exclude each other");
      }
      if (options.calls > 0 && line.value("--duration") != null) {
        throw new IllegalArgumentException("--duration and --calls exclude each other");
      }
      return options;
    }

    /** The flag's duration, which must not be zero, or {@code fallback} when it is not given. */
    private static Duration nonZeroDuration(CommandLine line, String flag, Duration fallback) {
      String value = line.value(flag);
      if (value == null) {
        return fallback;
      }
      Duration parsed = duration(flag, value);
      if (parsed.isZero()) {
        throw new IllegalArgumentException(flag + ": " + value + " (expected: > 0)");
      }
      return parsed;
    }

    private static int positive(String flag, int value) {
      if (value <= 0) {
        throw new IllegalArgumentException(flag + ": " + value + " (expected: > 0)");
      }
      return value;
    }

    private static long positive(String flag, long value) {
      if (value <= 0) {
        throw new IllegalArgumentException(flag + ": " + value + " (expected: > 0)");
      }
      return value;
    }

    /** {@code 250ms}, {@code 10s}, {@code 2m} or plain seconds. */
    static Duration duration(String flag, String value) {
      try {
        Duration parsed;
        if (value.endsWith("ms")) {
          parsed = Duration.ofMillis(Long.parseLong(value.substring(0, value.length() - 2)));
        } else if (value.endsWith("s")) {
          parsed = seconds(value.substring(0, value.length() - 1));
        } else if (value.endsWith("m")) {
          parsed = Duration.ofMinutes(Long.parseLong(value.substring(0, value.length() - 1)));
        } else {
          parsed = seconds(value);
        }
        if (parsed.isNegative()) {
          throw new IllegalArgumentException(flag + ": " + value + " (expected: >= 0)");
        }
        return parsed;
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            flag + ": " + value + " (expected: a duration such as 500ms, 10s or 2m)", e);
      }
    }

    private static Duration seconds(String number) {
      return Duration.ofNanos(Math.round(Double.parseDouble(number) * 1e9));
    }
  }
}
