package dev.chassis.benchmarks.suite;

import dev.chassis.benchmarks.SaturationBenchmark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Goodput past saturation with and without concurrency limiting: runs {@link SaturationBenchmark}
 * (client and server in one JVM on every CPU, as documented there) and takes its tables as they
 * are.
 */
final class SheddingStep {
  private final Suite suite;

  SheddingStep(Suite suite) {
    this.suite = suite;
  }

  void run() throws Exception {
    List<String> command = new ArrayList<>();
    command.addAll(List.of(Tools.java(), "-Xms1g", "-Xmx1g", "-cp", suite.classpath()));
    command.add(SaturationBenchmark.class.getName());
    if (suite.options().quick) {
      command.addAll(List.of("--seconds", "2", "--warmup", "1", "--loads", "0.5,2"));
      command.addAll(List.of("--limits", "off,vegas"));
    }
    Path output = suite.report().dir().resolve("shedding.md");
    Files.deleteIfExists(output);
    String allCpus = Tools.machineCpus();
    ProcessBuilder builder =
        new ProcessBuilder(Tools.onPath("taskset") ? Tools.pinned(allCpus, command) : command);
    builder.redirectOutput(output.toFile());
    Path log = suite.report().dir().resolve("logs").resolve("shedding.log");
    Files.createDirectories(log.getParent());
    builder.redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
    Process process = builder.start();
    try {
      if (!process.waitFor(Duration.ofMinutes(20).toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new IOException("SaturationBenchmark still ran after 20 minutes");
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      throw e;
    }
    if (process.exitValue() != 0) {
      throw new IOException("SaturationBenchmark exited " + process.exitValue() + "; see " + log);
    }
    suite
        .report()
        .section(
            "Past saturation: goodput with and without concurrency limiting",
            "`"
                + SaturationBenchmark.class.getName()
                + "`, client and server in one JVM on every CPU (see its Javadoc and the"
                + " notes in docs/benchmarks.md).\n\n"
                + Files.readString(output));
  }
}
