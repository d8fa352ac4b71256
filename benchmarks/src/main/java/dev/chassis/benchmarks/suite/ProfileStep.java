package dev.chassis.benchmarks.suite;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a saturated server's CPU time goes, per component: async-profiler samples the server's CPU
 * every millisecond (started through the server's stdin after the warm-up, stopped after the
 * measured window) for bare-fixed, chassis and chassis-full; {@link CpuProfile} charges each sample
 * to a component. Multiplied by the run's measured server CPU per call, that gives microseconds per
 * call per component.
 */
final class ProfileStep {
  private static final Logger log = LoggerFactory.getLogger(ProfileStep.class);
  private static final List<String> KINDS = List.of("bare-fixed", "chassis", "chassis-full");

  private final Suite suite;

  ProfileStep(Suite suite) {
    this.suite = suite;
  }

  /** A profiled run. */
  private record Profiled(CpuProfile profile, double cpuMicrosPerCall) {}

  void run() throws Exception {
    Map<String, Profiled> profiles = new LinkedHashMap<>();
    for (String kind : KINDS) {
      profiles.put(kind, profile(kind));
    }
    Set<String> components = new TreeSet<>();
    for (Profiled profiled : profiles.values()) {
      components.addAll(profiled.profile().components());
    }
    MarkdownTable cpu = new MarkdownTable("component", ">bare-fixed", ">chassis", ">chassis-full");
    for (String component : components) {
      Object[] row = new Object[KINDS.size() + 1];
      row[0] = component;
      for (int i = 0; i < KINDS.size(); i++) {
        Profiled profiled = profiles.get(KINDS.get(i));
        double share = profiled.profile().share(component);
        row[i + 1] =
            Report.format("%.1f (%.0f%%)", share * profiled.cpuMicrosPerCall(), share * 100);
      }
      cpu.row(row);
    }
    Object[] totals = new Object[KINDS.size() + 1];
    totals[0] = "**total server CPU per call**";
    for (int i = 0; i < KINDS.size(); i++) {
      totals[i + 1] = Report.format("%.1f", profiles.get(KINDS.get(i)).cpuMicrosPerCall());
    }
    cpu.row(totals);
    StringBuilder hot = new StringBuilder();
    for (String kind : List.of("chassis", "chassis-full")) {
      MarkdownTable table = new MarkdownTable("method (first frame outside the JDK)", ">share");
      for (Map.Entry<String, Double> entry : profiles.get(kind).profile().hottest(12).entrySet()) {
        table.row("`" + entry.getKey() + "`", Report.format("%.1f%%", entry.getValue() * 100));
      }
      hot.append("\nHottest methods of ").append(kind).append(":\n\n").append(table);
    }
    suite
        .report()
        .section(
            "Where the server's CPU goes at saturation (async-profiler)",
            Report.format(
                    "One more saturation run per server (closed model, %d in flight), sampled by"
                        + " async-profiler %s every millisecond of CPU time over the measured"
                        + " window only. Each sample is charged to the first frame from the top"
                        + " of its stack that is Java code outside the JDK (so a `HashMap.put` or"
                        + " a socket write made by Netty counts as Netty) and to that package's"
                        + " component. Cells: µs of server CPU per call (the run's measured CPU"
                        + " time per call times the component's share of samples) and the share.",
                    suite.options().concurrency, "4.2")
                + "\n\n"
                + cpu
                + hot);
  }

  private Profiled profile(String kind) throws Exception {
    Path collapsed =
        suite.report().dir().resolve("profile-" + kind + ".collapsed").toAbsolutePath();
    try (ServerProcess server = ServerProcess.start(suite, kind, List.of())) {
      List<String> model = LoadStep.closed(suite.options().concurrency);
      LoadStep.load(server, model, suite.options().warmup);
      command(server, "profile-start", "profiling started");
      double before = server.process().cpuSeconds();
      JsonNode result = LoadStep.load(server, model, suite.options().duration);
      double cpuSeconds = server.process().cpuSeconds() - before;
      command(server, "profile-stop " + collapsed, "profiling stopped");
      long calls = Math.max(1, result.path("count").asLong());
      CpuProfile profile = CpuProfile.read(collapsed);
      double perCall = cpuSeconds * 1e6 / calls;
      log.info(
          "profile {}: {} calls/s, {} samples, {} µs CPU/call",
          kind,
          Math.round(result.path("throughput").asDouble()),
          profile.total(),
          Math.round(perCall));
      ObjectNode raw = Report.JSON.createObjectNode();
      raw.put("kind", kind).put("samples", profile.total()).put("cpu_us_per_call", perCall);
      raw.put("file", collapsed.toString());
      raw.set("load", result);
      suite.report().raw("profile", raw);
      return new Profiled(profile, perCall);
    }
  }

  private static void command(ServerProcess server, String command, String expected)
      throws Exception {
    server.process().send(command);
    String answer = server.process().awaitLine("", Duration.ofSeconds(30));
    if (!answer.equals(expected)) {
      throw new IOException(server.kind() + ": " + command + ": " + answer);
    }
  }
}
