package dev.chassis.benchmarks.servers;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import dev.chassis.ChassisConfig;
import dev.chassis.observability.logging.LoggingInterceptors;
import dev.chassis.server.ChassisServer;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import net.logstash.logback.encoder.LogstashEncoder;
import one.profiler.AsyncProfiler;
import org.jspecify.annotations.Nullable;
import org.slf4j.LoggerFactory;

/**
 * Starts one server under test holding the {@link BenchUserService} users, in one of five kinds:
 *
 * <ul>
 *   <li>{@code bare}: grpc-java's {@code NettyServerBuilder} with the services and nothing else (no
 *       interceptors, no health, grpc's default executor).
 *   <li>{@code bare-fixed}: {@code bare} with its handlers on a fixed pool of {@code --threads}
 *       threads, as Chassis runs them, instead of grpc's default cached pool: the difference
 *       between {@code bare-fixed} and {@code chassis} is the Chassis stack alone.
 *   <li>{@code chassis}: a {@link ChassisServer} with the default production stack as the benchmark
 *       issue defines it (tracing, metrics, logging context, access log, deadline bounds,
 *       concurrency limit, error mapping, health, reflection), admin endpoint off. Tracing is a
 *       real OpenTelemetry SDK propagating trace context with a parent-based sampler whose root
 *       ratio is {@code --trace-ratio} (default 0: only calls whose caller sampled the trace are
 *       recorded, and the load's calls carry none), batching recorded spans to an exporter that
 *       drops them. Chassis itself defaults to root ratio 1.0 ({@code OTEL_TRACES_SAMPLER_ARG}),
 *       which is {@code chassis-full}'s tracing. The access log runs at Chassis' default ({@code
 *       ok-sample-rate = 1.0}), JSON-encoded by logstash-logback-encoder to {@code --access-log}.
 *   <li>{@code chassis-full}: {@code chassis} with every trace recorded and exported in batches
 *       (always-on sampler, whatever the caller's flag; no-op exporter) and every call
 *       access-logged ({@code chassis.logging.access-log.ok-sample-rate = 1.0}).
 *   <li>{@code rest}: the same users as JSON over HTTP/1.1 on the JDK's HTTP server (see {@code
 *       RestUserServer}); {@code GET /__stats} returns the bytes counted, which are also printed on
 *       exit.
 * </ul>
 *
 * <p>The gRPC kinds also serve {@code grpc.testing.BenchmarkService} as grpc-java's own qps server
 * does (see {@code QpsBenchmarkService}), so grpc's {@code qps_client} can load the same process.
 * Every kind counts the calls it answers by gRPC status code ({@link Outcomes}; REST by the code
 * its HTTP status stands for), reported in {@link BenchServer#stats()} as {@code "outcomes"}.
 *
 * <p>Seeded user {@code i} has id {@link BenchUserService#seedId(int)}, so {@code seedId(0)} exists
 * whenever {@code --users} is at least 1. Usage:
 *
 * <pre>{@code
 * java -cp ... dev.chassis.benchmarks.servers.BenchServers --kind chassis --port 50051 --users 1000
 * java -cp ... dev.chassis.benchmarks.servers.BenchServers --kind rest --port 8080 --users 1000
 * }</pre>
 *
 * <p>Flags: {@code --kind bare|bare-fixed|chassis|chassis-full|rest} (required), {@code --port P}
 * (default 50051; 0 picks one), {@code --host H} (default 0.0.0.0), {@code --users N} (default
 * 1000), {@code --threads N} (REST and bare-fixed handler threads, and Chassis' {@code
 * executor-threads}; default 0 meaning max(16, 4 × CPUs) as in Chassis; bare uses grpc's default
 * executor), {@code --trace-ratio X} (chassis only; default 0), {@code --access-log discard|stdout}
 * (chassis kinds; default discard: encoded, then thrown away). The line {@code listening <kind>
 * <port>} goes to stdout once serving; the server runs until the process is stopped (SIGINT or
 * SIGTERM), then prints {@code stats} and {@link BenchServer#stats()}, such as {@code stats
 * {"outcomes":{"OK":1200,"NOT_FOUND":3}}}.
 */
public final class BenchServers {
  /** The server variants. */
  public enum Kind {
    /** Plain grpc-java. */
    BARE,
    /** Plain grpc-java on a fixed handler pool sized as Chassis sizes its own. */
    BARE_FIXED,
    /** Chassis with its defaults. */
    CHASSIS,
    /** Chassis tracing and access-logging every call. */
    CHASSIS_FULL,
    /** JSON over HTTP/1.1. */
    REST;

    /** Parses {@code bare}, {@code chassis}, {@code chassis-full} or {@code rest}. */
    public static Kind parse(String value) {
      for (Kind kind : values()) {
        if (kind.label().equals(value)) {
          return kind;
        }
      }
      throw new IllegalArgumentException(
          "--kind: " + value + " (expected: bare, bare-fixed, chassis, chassis-full or rest)");
    }

    /** The command-line spelling. */
    public String label() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  /**
   * What to start.
   *
   * @param kind the variant
   * @param host address to bind
   * @param port port to bind; 0 picks a free one
   * @param users users seeded before serving
   * @param threads handler threads; 0: max(16, 4 × CPUs); ignored by {@code bare}
   * @param traceRatio root-span sampling ratio of {@code chassis}, 0..1
   * @param accessLogToStdout whether access-log lines are written to stdout instead of discarded
   */
  public record Settings(
      Kind kind,
      String host,
      int port,
      int users,
      int threads,
      double traceRatio,
      boolean accessLogToStdout) {
    /** Validates. */
    public Settings {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("--port: " + port + " (expected: 0..65535)");
      }
      if (users < 0) {
        throw new IllegalArgumentException("--users: " + users + " (expected: >= 0)");
      }
      if (threads < 0) {
        throw new IllegalArgumentException("--threads: " + threads + " (expected: >= 0)");
      }
      if (!(traceRatio >= 0 && traceRatio <= 1)) {
        throw new IllegalArgumentException("--trace-ratio: " + traceRatio + " (expected: 0..1)");
      }
    }

    /** {@code kind} on 127.0.0.1, a free port, 100 users, defaults otherwise: for tests. */
    public static Settings forLoopback(Kind kind) {
      return new Settings(kind, "127.0.0.1", 0, 100, 0, 0.0, false);
    }

    int handlerThreads() {
      return threads > 0 ? threads : Math.max(16, 4 * Runtime.getRuntime().availableProcessors());
    }
  }

  /**
   * A started server.
   *
   * @param kind the kind started
   * @param port the bound port
   * @param outcomes the calls answered so far, by status code (all services of the server)
   * @param statsSource the counters printed on exit, as one JSON object
   * @param closer stops the server
   */
  public record BenchServer(
      Kind kind, int port, Outcomes outcomes, Supplier<String> statsSource, Runnable closer)
      implements AutoCloseable {
    /**
     * The counters printed on exit, as one JSON object: {@code "outcomes"} (calls by gRPC status
     * name, codes never seen left out) and, for {@code rest}, the exchanges and bytes first.
     */
    public String stats() {
      return statsSource.get();
    }

    @Override
    public void close() {
      closer.run();
    }
  }

  private BenchServers() {}

  /** Starts a server; see the class comment for flags. */
  public static void main(String[] args) throws Exception {
    Settings settings;
    try {
      settings = parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.err.println(
          "Usage: BenchServers --kind bare|bare-fixed|chassis|chassis-full|rest [--port P] [--host H]"
              + " [--users N] [--threads N] [--trace-ratio X] [--access-log discard|stdout]");
      System.exit(2);
      return;
    }
    BenchServer server = start(settings);
    CountDownLatch stopped = new CountDownLatch(1);
    PrintStream out = System.out;
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.close();
                  // After close: calls in flight have been answered and counted.
                  out.println("stats " + server.stats());
                  out.flush();
                  stopped.countDown();
                },
                "bench-server-stop"));
    out.println("listening " + settings.kind().label() + " " + server.port());
    out.flush();
    Thread commands = new Thread(() -> readCommands(out), "bench-server-commands");
    commands.setDaemon(true);
    commands.start();
    stopped.await();
  }

  /**
   * Serves the commands the benchmark suite sends on stdin, one per line: {@code profile-start}
   * starts async-profiler's CPU sampling (1 ms), {@code profile-stop FILE} stops it and writes the
   * samples to FILE as collapsed stacks. Each answers one line ({@code profiling started}, {@code
   * profiling stopped}, or {@code error ...}). Ends at the end of stdin.
   */
  private static void readCommands(PrintStream out) {
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    try {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        String answer;
        try {
          if (line.equals("profile-start")) {
            AsyncProfiler.getInstance().execute("start,event=cpu,interval=1ms");
            answer = "profiling started";
          } else if (line.startsWith("profile-stop ")) {
            String file = line.substring("profile-stop ".length()).trim();
            AsyncProfiler.getInstance().execute("stop,file=" + file + ",collapsed");
            answer = "profiling stopped";
          } else {
            answer = "error unknown command: " + line;
          }
        } catch (IOException | RuntimeException e) {
          answer = "error " + e;
        }
        synchronized (out) {
          out.println(answer);
          out.flush();
        }
      }
    } catch (IOException e) {
      LoggerFactory.getLogger(BenchServers.class).warn("reading commands: {}", e.toString());
    }
  }

  static Settings parse(String[] args) {
    Kind kind = null;
    String host = "0.0.0.0";
    int port = 50051;
    int users = 1000;
    int threads = 0;
    double traceRatio = 0.0;
    boolean stdout = false;
    for (int i = 0; i < args.length; i += 2) {
      String flag = args[i];
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(flag + ": missing value");
      }
      String value = args[i + 1];
      try {
        switch (flag) {
          case "--kind" -> kind = Kind.parse(value);
          case "--host" -> host = value;
          case "--port" -> port = Integer.parseInt(value);
          case "--users" -> users = Integer.parseInt(value);
          case "--threads" -> threads = Integer.parseInt(value);
          case "--trace-ratio" -> traceRatio = Double.parseDouble(value);
          case "--access-log" -> {
            switch (value) {
              case "stdout" -> stdout = true;
              case "discard" -> stdout = false;
              default ->
                  throw new IllegalArgumentException(
                      "--access-log: " + value + " (expected: discard or stdout)");
            }
          }
          default -> throw new IllegalArgumentException("unknown flag: " + flag);
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(flag + ": not a number: " + value, e);
      }
    }
    if (kind == null) {
      throw new IllegalArgumentException("--kind is required");
    }
    return new Settings(kind, host, port, users, threads, traceRatio, stdout);
  }

  /**
   * Seeds the users and starts serving.
   *
   * @throws IOException when the port cannot be bound
   */
  public static BenchServer start(Settings settings) throws IOException {
    UserStore store = new UserStore();
    store.seed(settings.users());
    Outcomes outcomes = new Outcomes();
    InetSocketAddress address = new InetSocketAddress(settings.host(), settings.port());
    return switch (settings.kind()) {
      case BARE -> startBare(store, outcomes, address, Kind.BARE, null);
      case BARE_FIXED ->
          startBare(
              store, outcomes, address, Kind.BARE_FIXED, fixedPool(settings.handlerThreads()));
      case CHASSIS, CHASSIS_FULL -> startChassis(store, outcomes, settings);
      case REST -> startRest(store, outcomes, address, settings.handlerThreads());
    };
  }

  private static BenchServer startBare(
      UserStore store,
      Outcomes outcomes,
      InetSocketAddress address,
      Kind kind,
      @Nullable ExecutorService handlers)
      throws IOException {
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(address)
            .addService(new BenchUserService(store, outcomes))
            .addService(new QpsBenchmarkService(outcomes));
    if (handlers != null) {
      builder.executor(handlers);
    }
    Server server = builder.build().start();
    return new BenchServer(
        kind,
        server.getPort(),
        outcomes,
        () -> grpcStats(outcomes),
        () -> {
          server.shutdownNow();
          awaitQuietly(() -> server.awaitTermination(5, TimeUnit.SECONDS));
          if (handlers != null) {
            handlers.shutdownNow();
          }
        });
  }

  /** A fixed pool of daemon threads, as {@code ChassisServer} makes its handler pool. */
  private static ExecutorService fixedPool(int threads) {
    AtomicInteger count = new AtomicInteger();
    return Executors.newFixedThreadPool(
        threads,
        runnable -> {
          Thread thread = new Thread(runnable, "bare-handler-" + count.incrementAndGet());
          thread.setDaemon(true);
          return thread;
        });
  }

  private static BenchServer startChassis(UserStore store, Outcomes outcomes, Settings settings)
      throws IOException {
    boolean full = settings.kind() == Kind.CHASSIS_FULL;
    routeAccessLog(settings.accessLogToStdout() ? System.out : OutputStream.nullOutputStream());
    Sampler sampler =
        full
            ? Sampler.alwaysOn()
            : Sampler.parentBased(Sampler.traceIdRatioBased(settings.traceRatio()));
    OpenTelemetrySdk tracing =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .setSampler(sampler)
                    .addSpanProcessor(
                        BatchSpanProcessor.builder(new DroppingSpanExporter()).build())
                    .build())
            .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
            .build();
    StringBuilder hocon = new StringBuilder();
    hocon.append("chassis.service.name = bench-").append(settings.kind().label()).append('\n');
    hocon
        .append("chassis.grpc { host = \"")
        .append(settings.host())
        .append("\", port = ")
        .append(settings.port());
    if (settings.threads() > 0) {
      hocon.append(", executor-threads = ").append(settings.threads());
    }
    hocon.append(" }\n");
    hocon.append("chassis.admin.port = -1\n");
    hocon.append("chassis.shutdown { drain-delay = 0s, grace = 2s, handle-signals = false }\n");
    if (full) {
      hocon.append(
          "chassis.logging.access-log { enabled = true, level = INFO, ok-sample-rate = 1.0 }\n");
    }
    ChassisServer server;
    try {
      server =
          ChassisServer.newBuilder(ChassisConfig.of(hocon.toString()))
              .addService(new BenchUserService(store, outcomes))
              .addService(new QpsBenchmarkService(outcomes))
              .openTelemetry(tracing)
              .start();
    } catch (IOException | RuntimeException e) {
      tracing.close();
      throw e;
    }
    return new BenchServer(
        settings.kind(),
        server.port(),
        outcomes,
        () -> grpcStats(outcomes),
        () -> {
          server.close();
          tracing.shutdown().join(5, TimeUnit.SECONDS);
        });
  }

  private static BenchServer startRest(
      UserStore store, Outcomes outcomes, InetSocketAddress address, int threads)
      throws IOException {
    RestUserServer server = new RestUserServer(store, outcomes, address, threads);
    return new BenchServer(Kind.REST, server.port(), outcomes, server::statsJson, server::close);
  }

  private static String grpcStats(Outcomes outcomes) {
    return "{\"outcomes\":" + outcomes.toJson() + "}";
  }

  /**
   * Sends {@code chassis.access} at INFO through the JSON encoder into {@code out}: the work a real
   * service does per logged call, whatever the benchmarks' logback.xml says (it only shows
   * warnings).
   */
  private static void routeAccessLog(OutputStream out) {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    LogstashEncoder encoder = new LogstashEncoder();
    encoder.setContext(context);
    encoder.start();
    OutputStreamAppender<ILoggingEvent> appender = new OutputStreamAppender<>();
    appender.setContext(context);
    appender.setEncoder(encoder);
    appender.setOutputStream(out);
    appender.start();
    Logger access = context.getLogger(LoggingInterceptors.ACCESS_LOGGER);
    access.detachAndStopAllAppenders();
    access.setAdditive(false);
    access.setLevel(Level.INFO);
    access.addAppender(appender);
  }

  private interface Wait {
    boolean await() throws InterruptedException;
  }

  private static void awaitQuietly(Wait wait) {
    try {
      wait.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
