package dev.chassis.benchmarks.suite;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.chassis.sample.user.v1.CreateUserRequest;
import dev.chassis.sample.user.v1.UserServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Start-up and footprint of the sample jar as users run it ({@code java -jar}, default JVM flags,
 * in-memory repository, both CPUs): time from exec to the gRPC port accepting, to health {@code
 * SERVING}, and to the first successful {@code CreateUser}; RSS after that first call; then, on the
 * last run, RSS under load, the live heap after warm-up (after a full GC, via {@code jcmd}) and the
 * exit status on SIGTERM. The first start-up is discarded (it warms this client up).
 */
final class StartupStep {
  private static final Logger log = LoggerFactory.getLogger(StartupStep.class);
  private static final Pattern HEAP_TOTAL = Pattern.compile("heap\\s+total (\\d+)K");
  private static final Pattern HISTOGRAM_TOTAL =
      Pattern.compile("(?m)^Total\\s+\\d+\\s+(\\d+)\\s*$");

  private final Suite suite;

  StartupStep(Suite suite) {
    this.suite = suite;
    this.flags =
        List.of(
            new Flags("`java -jar`, default flags", List.of()),
            // The image's JAVA_TOOL_OPTIONS under a 512 MiB limit; MaxRAM stands in for the
            // container's cgroup limit, which the JVM would otherwise read.
            new Flags(
                "as deployed: image flags, 512 MiB limit",
                List.of(
                    "-XX:MaxRAM=512m", "-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError")),
            new Flags(
                "default flags + AppCDS archive", List.of("-XX:SharedArchiveFile=" + archive())));
  }

  /** Where the training run leaves the application class-data archive. */
  private String archive() {
    return suite.report().dir().resolve("sample-appcds.jsa").toAbsolutePath().toString();
  }

  /**
   * A training run: starts the sample with {@code -XX:ArchiveClassesAtExit}, makes the first call,
   * stops it; the JVM writes the classes it loaded to the archive as it exits.
   */
  private void trainAppCds() throws Exception {
    Files.deleteIfExists(Path.of(archive()));
    try (Sample sample =
        Sample.start(suite, -1, List.of("-XX:ArchiveClassesAtExit=" + archive()))) {
      sample.awaitFirstCall();
    }
    if (!Files.isRegularFile(Path.of(archive()))) {
      throw new IOException(
          "the AppCDS training run wrote no archive; see logs/sample-startup.log");
    }
  }

  /** One start-up. */
  private record Start(double portMs, double servingMs, double firstCallMs, long rssAfterCall) {}

  /** A way to run the jar. */
  private record Flags(String label, List<String> jvmArgs) {}

  /** What one way of running the jar measured. */
  private record Measured(
      Samples port, Samples serving, Samples firstCall, Samples rss, Footprint footprint) {}

  private final List<Flags> flags;

  void run() throws Exception {
    if (!Files.isRegularFile(suite.options().sampleJar)) {
      throw new IOException(
          suite.options().sampleJar + " is missing: build the project first (benchmarks/run.sh)");
    }
    List<Measured> measured = new ArrayList<>();
    for (Flags flag : flags) {
      if (flag.jvmArgs().stream().anyMatch(arg -> arg.startsWith("-XX:SharedArchiveFile="))) {
        trainAppCds();
      }
      measured.add(measure(flag));
    }
    report(measured);
  }

  private Measured measure(Flags flags) throws Exception {
    Samples port = new Samples();
    Samples serving = new Samples();
    Samples firstCall = new Samples();
    Samples rss = new Samples();
    Footprint footprint = null;
    int runs = suite.options().startupRuns;
    for (int i = 0; i <= runs; i++) {
      boolean last = i == runs;
      try (Sample sample = Sample.start(suite, i, flags.jvmArgs())) {
        Start start = sample.awaitFirstCall();
        log.info(
            "start-up {} ({}): port {} ms, SERVING {} ms, first call {} ms, RSS {} MB",
            i,
            flags.label(),
            Math.round(start.portMs()),
            Math.round(start.servingMs()),
            Math.round(start.firstCallMs()),
            start.rssAfterCall() >> 20);
        if (i > 0) {
          port.add(start.portMs());
          serving.add(start.servingMs());
          firstCall.add(start.firstCallMs());
          rss.add(start.rssAfterCall() / (double) (1 << 20));
          ObjectNode raw = Report.JSON.createObjectNode();
          raw.put("flags", flags.label()).put("run", i);
          raw.put("port_ms", start.portMs()).put("serving_ms", start.servingMs());
          raw.put("first_call_ms", start.firstCallMs()).put("rss_bytes", start.rssAfterCall());
          suite.report().raw("startup", raw);
        }
        if (last) {
          footprint = sample.footprint();
          ObjectNode raw = Report.JSON.createObjectNode();
          raw.put("flags", flags.label());
          raw.put("heap_live_bytes", footprint.heapLive())
              .put("heap_committed_bytes", footprint.heapCommitted());
          raw.put("rss_under_load_max_bytes", footprint.rssUnderLoad());
          raw.put("rss_after_gc_bytes", footprint.rssAfter()).put("exit_status", footprint.exit());
          raw.put("exit_ms", footprint.exitMs());
          suite.report().raw("footprint", raw);
        }
      }
    }
    return new Measured(port, serving, firstCall, rss, footprint);
  }

  private static String mib(long bytes, int decimals) {
    return Samples.number(bytes / (double) (1 << 20), decimals);
  }

  private void report(List<Measured> measured) {
    String[] headers = new String[flags.size() + 1];
    headers[0] = "from exec to";
    for (int i = 0; i < flags.size(); i++) {
      headers[i + 1] = ">" + flags.get(i).label() + ", ms";
    }
    MarkdownTable startup = new MarkdownTable(headers);
    startup.row(row("gRPC port accepting", measured, m -> m.port().describe(0)));
    startup.row(row("health `SERVING`", measured, m -> m.serving().describe(0)));
    startup.row(
        row("first successful call (`CreateUser`)", measured, m -> m.firstCall().describe(0)));
    headers[0] = "memory";
    for (int i = 0; i < flags.size(); i++) {
      headers[i + 1] = ">" + flags.get(i).label() + ", MiB";
    }
    Footprint first = measured.get(0).footprint();
    MarkdownTable memory = new MarkdownTable(headers);
    memory.row(row("RSS after the first call", measured, m -> m.rss().describe(0)));
    memory.row(
        row(
            "RSS under load (max, "
                + Math.round(first.loadSeconds())
                + " s of GetUser, 16 in flight)",
            measured,
            m -> mib(m.footprint().rssUnderLoad(), 0)));
    memory.row(
        row(
            "live heap after warm-up (objects after a full GC)",
            measured,
            m -> mib(m.footprint().heapLive(), 1)));
    memory.row(
        row("committed heap after warm-up", measured, m -> mib(m.footprint().heapCommitted(), 0)));
    memory.row(
        row("RSS after warm-up and the full GC", measured, m -> mib(m.footprint().rssAfter(), 0)));
    StringBuilder exits = new StringBuilder();
    for (int i = 0; i < flags.size(); i++) {
      Footprint footprint = measured.get(i).footprint();
      exits
          .append(i == 0 ? "" : "; ")
          .append(flags.get(i).label())
          .append(
              Report.format(
                  ": exit status %d after %.0f ms", footprint.exit(), footprint.exitMs()));
    }
    suite
        .report()
        .section(
            "Start-up and footprint of the sample",
            Report.format(
                    "%d start-ups per column after a discarded one, on both CPUs, in-memory"
                        + " repository, admin endpoint on; the client polls the port every"
                        + " millisecond. Cells: median (lowest–highest). Warm-up: %d s of"
                        + " GetUser, 16 in flight. SIGTERM after the load (drain delay"
                        + " included): %s.",
                    measured.get(0).port().size(), Math.round(first.loadSeconds()), exits)
                + "\n\n"
                + startup
                + "\n"
                + memory);
    Measured plain = measured.get(0);
    Measured appCds = measured.get(measured.size() - 1);
    suite
        .report()
        .target(
            "sample start-up (exec to first successful call) < 1 s",
            plain.firstCall().describe(0)
                + " ms with default flags; "
                + appCds.firstCall().describe(0)
                + " ms with an AppCDS archive",
            plain.firstCall().median() < 1000);
    double heapMb = plain.footprint().heapLive() / (double) (1 << 20);
    suite
        .report()
        .target("heap after warm-up < 64 MB", Samples.number(heapMb, 1) + " MiB live", heapMb < 64);
    Measured deployed = measured.get(1);
    suite
        .report()
        .target(
            "RSS after the first call < 150 MB",
            plain.rss().describe(0)
                + " MiB with default flags; "
                + deployed.rss().describe(0)
                + " MiB as deployed",
            plain.rss().median() < 150);
  }

  private static Object[] row(
      String label, List<Measured> measured, java.util.function.Function<Measured, String> cell) {
    Object[] row = new Object[measured.size() + 1];
    row[0] = label;
    for (int i = 0; i < measured.size(); i++) {
      row[i + 1] = cell.apply(measured.get(i));
    }
    return row;
  }

  /** Memory after warm-up and under load, and the shutdown. */
  private record Footprint(
      long heapLive,
      long heapCommitted,
      long rssUnderLoad,
      long rssAfter,
      double loadSeconds,
      int exit,
      double exitMs) {}

  /** One sample process and a channel to it. */
  private static final class Sample implements AutoCloseable {
    private final Suite suite;
    private final ChildProcess process;
    private final long startedNanos;
    private final int grpcPort;
    private ManagedChannel channel;
    private String userId = "";
    private boolean stopped;
    private int exit = -1;
    private double exitMs;

    private Sample(Suite suite, ChildProcess process, long startedNanos, int grpcPort) {
      this.suite = suite;
      this.process = process;
      this.startedNanos = startedNanos;
      this.grpcPort = grpcPort;
    }

    static Sample start(Suite suite, int run, List<String> jvmArgs) throws IOException {
      int grpcPort = Tools.freePort();
      int adminPort = Tools.freePort();
      List<String> command = new ArrayList<>();
      command.add(Tools.java());
      command.addAll(jvmArgs);
      command.addAll(List.of("-jar", suite.options().sampleJar.toString()));
      String allCpus = Tools.machineCpus();
      // The suite runs pinned to the client CPU; the sample gets every CPU, as a user's would.
      List<String> pinned = Tools.onPath("taskset") ? Tools.pinned(allCpus, command) : command;
      long started = System.nanoTime();
      ChildProcess process =
          ChildProcess.startLogged(
              "sample-" + run,
              pinned,
              Map.of(
                  "CHASSIS_GRPC_PORT", Integer.toString(grpcPort),
                  "CHASSIS_ADMIN_PORT", Integer.toString(adminPort)),
              suite.report().dir().resolve("logs").resolve("sample-startup.log"));
      return new Sample(suite, process, started, grpcPort);
    }

    private double sinceStart() {
      return (System.nanoTime() - startedNanos) / 1e6;
    }

    Start awaitFirstCall() throws Exception {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!accepts()) {
        if (System.nanoTime() > deadline || !process.isAlive()) {
          throw new TimeoutException("the sample did not open its gRPC port within 30 s");
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
      }
      double portMs = sinceStart();
      channel = NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
      HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
      while (true) {
        try {
          HealthCheckResponse response =
              health
                  .withDeadlineAfter(5, TimeUnit.SECONDS)
                  .withWaitForReady()
                  .check(HealthCheckRequest.getDefaultInstance());
          if (response.getStatus() == HealthCheckResponse.ServingStatus.SERVING) {
            break;
          }
        } catch (StatusRuntimeException e) {
          log.debug("health check: {}", e.getStatus());
        }
        if (System.nanoTime() > deadline) {
          throw new TimeoutException("the sample was not SERVING within 30 s");
        }
      }
      double servingMs = sinceStart();
      userId =
          UserServiceGrpc.newBlockingStub(channel)
              .withDeadlineAfter(5, TimeUnit.SECONDS)
              .createUser(
                  CreateUserRequest.newBuilder()
                      .setName("Ada Lovelace")
                      .setEmail("ada@example.com")
                      .build())
              .getId();
      double firstCallMs = sinceStart();
      return new Start(portMs, servingMs, firstCallMs, process.rssBytes());
    }

    private boolean accepts() {
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", grpcPort), 100);
        return true;
      } catch (IOException e) {
        return false;
      }
    }

    Footprint footprint() throws Exception {
      Duration load = suite.options().quick ? Duration.ofSeconds(2) : Duration.ofSeconds(10);
      load(load); // warm-up
      AtomicLong maxRss = new AtomicLong();
      AtomicBoolean done = new AtomicBoolean();
      Thread sampler =
          new Thread(
              () -> {
                while (!done.get()) {
                  maxRss.accumulateAndGet(process.rssBytes(), Math::max);
                  LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
                }
              },
              "rss-sampler");
      sampler.start();
      try {
        load(load);
      } finally {
        done.set(true);
        sampler.join();
      }
      String pid = Long.toString(process.pid());
      // The class histogram forces a full GC first: its total is the live objects' bytes.
      String histogram = Tools.output(List.of(Tools.jcmd(), pid, "GC.class_histogram"));
      String heapInfo = Tools.output(List.of(Tools.jcmd(), pid, "GC.heap_info"));
      log.info("sample heap after warm-up and a full GC:\n{}", heapInfo.strip());
      long heapLive = -1;
      long heapCommitted = -1;
      Matcher live = HISTOGRAM_TOTAL.matcher(histogram);
      if (live.find()) {
        heapLive = Long.parseLong(live.group(1));
      }
      Matcher total = HEAP_TOTAL.matcher(heapInfo);
      if (total.find()) {
        heapCommitted = Long.parseLong(total.group(1)) * 1024;
      }
      long rssAfter = process.rssBytes();
      stop();
      return new Footprint(
          heapLive, heapCommitted, maxRss.get(), rssAfter, load.toSeconds(), exit, exitMs);
    }

    private void load(Duration window) throws Exception {
      List<String> args = new ArrayList<>();
      args.addAll(List.of("127.0.0.1:" + grpcPort, "--method", "GetUser", "--id", userId));
      args.addAll(List.of("--concurrency", "16", "--duration", window.toMillis() + "ms"));
      JsonNode result = LoadStep.loadMain(args);
      if (result.path("errors").asLong() != 0) {
        throw new IOException("load on the sample failed: " + result);
      }
    }

    private void stop() throws InterruptedException {
      if (!stopped) {
        stopped = true;
        if (channel != null) {
          channel.shutdownNow();
        }
        long before = System.nanoTime();
        exit = process.stop(Duration.ofSeconds(30));
        exitMs = (System.nanoTime() - before) / 1e6;
      }
    }

    @Override
    public void close() {
      try {
        stop();
      } catch (InterruptedException e) {
        process.close();
        Thread.currentThread().interrupt();
      }
    }
  }
}
