package dev.chassis.benchmarks.suite;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a saturated server's CPU time and allocation go, per component, from a JDK Flight Recorder
 * recording ({@code settings=profile}) started with {@code jcmd} after the warm-up and stopped
 * after the measured window, for bare, chassis and chassis-full.
 */
final class ProfileStep {
  private static final Logger log = LoggerFactory.getLogger(ProfileStep.class);
  private static final List<String> KINDS = List.of("bare", "chassis", "chassis-full");

  private final Suite suite;

  ProfileStep(Suite suite) {
    this.suite = suite;
  }

  /** A profiled run. */
  private record Profiled(JfrProfile profile, double cpuMicrosPerCall, long calls) {}

  void run() throws Exception {
    Map<String, Profiled> profiles = new LinkedHashMap<>();
    for (String kind : KINDS) {
      profiles.put(kind, profile(kind));
    }
    Set<String> components = new TreeSet<>();
    for (Profiled profiled : profiles.values()) {
      components.addAll(profiled.profile().components());
    }
    MarkdownTable cpu = new MarkdownTable("component", ">bare", ">chassis", ">chassis-full");
    MarkdownTable alloc = new MarkdownTable("component", ">bare", ">chassis", ">chassis-full");
    for (String component : components) {
      Object[] cpuRow = new Object[KINDS.size() + 1];
      Object[] allocRow = new Object[KINDS.size() + 1];
      cpuRow[0] = component;
      allocRow[0] = component;
      for (int i = 0; i < KINDS.size(); i++) {
        Profiled profiled = profiles.get(KINDS.get(i));
        double share = profiled.profile().cpuShare(component);
        cpuRow[i + 1] =
            Report.format("%.1f (%.0f%%)", share * profiled.cpuMicrosPerCall(), share * 100);
        allocRow[i + 1] =
            Samples.number(profiled.profile().allocated(component) / profiled.calls(), 0);
      }
      cpu.row(cpuRow);
      alloc.row(allocRow);
    }
    Object[] totals = new Object[KINDS.size() + 1];
    totals[0] = "**total**";
    for (int i = 0; i < KINDS.size(); i++) {
      totals[i + 1] = Report.format("%.1f", profiles.get(KINDS.get(i)).cpuMicrosPerCall());
    }
    cpu.row(totals);
    MarkdownTable hot = new MarkdownTable("method (first non-JDK frame)", ">share of samples");
    for (Map.Entry<String, Double> entry :
        profiles.get("chassis-full").profile().hottest(15).entrySet()) {
      hot.row("`" + entry.getKey() + "`", Report.format("%.1f%%", entry.getValue() * 100));
    }
    suite
        .report()
        .section(
            "Where the server's CPU and allocation go at saturation (JFR)",
            Report.format(
                    "One saturation run per server (closed model, %d in flight), recorded by JDK"
                        + " Flight Recorder (`settings=profile`) over the measured window only. Each"
                        + " CPU sample is charged to the first frame that is not JDK code (so a"
                        + " `HashMap.put` made by OpenTelemetry counts as OpenTelemetry) and its"
                        + " package's component; samples with JDK frames only are threads, queues"
                        + " and sockets. CPU: µs of server CPU per call (the run's measured CPU time"
                        + " per call times the component's share of samples); execution samples"
                        + " only cover Java code, so time in the kernel and in GC is spread"
                        + " proportionally. Allocation: bytes per call from JFR's allocation samples"
                        + " (estimates).",
                    suite.options().concurrency)
                + "\n\nServer CPU µs per call (share of samples):\n\n"
                + cpu
                + "\nBytes allocated per call:\n\n"
                + alloc
                + "\nHottest methods of chassis-full:\n\n"
                + hot);
  }

  private Profiled profile(String kind) throws Exception {
    Path recording = suite.report().dir().resolve("profile-" + kind + ".jfr").toAbsolutePath();
    try (ServerProcess server = ServerProcess.start(suite, kind, List.of())) {
      List<String> model = LoadStep.closed(suite.options().concurrency);
      LoadStep.load(server, model, suite.options().warmup);
      String pid = Long.toString(server.process().pid());
      Tools.output(List.of(Tools.jcmd(), pid, "JFR.start", "name=bench", "settings=profile"));
      double before = server.process().cpuSeconds();
      JsonNode result = LoadStep.load(server, model, suite.options().duration);
      double cpuSeconds = server.process().cpuSeconds() - before;
      Tools.output(List.of(Tools.jcmd(), pid, "JFR.stop", "name=bench", "filename=" + recording));
      long calls = result.path("count").asLong();
      JfrProfile profile = JfrProfile.read(recording);
      log.info(
          "profile {}: {} calls, {} CPU samples, {} µs CPU/call",
          kind,
          calls,
          profile.totalSamples(),
          Math.round(cpuSeconds * 1e6 / calls));
      return new Profiled(profile, cpuSeconds * 1e6 / Math.max(1, calls), Math.max(1, calls));
    }
  }
}
