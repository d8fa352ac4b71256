package dev.chassis.benchmarks.suite;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A child process whose stdout lines are collected as they come (stderr goes to a log file), so the
 * suite can wait for a line such as {@code listening bare 40123} and read CPU time from {@code
 * /proc}.
 */
final class ChildProcess implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ChildProcess.class);
  private static final String EOF = "\u0000eof";
  private static final long CLOCK_TICKS_PER_SECOND = 100;

  private final Process process;
  private final String name;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final List<String> seen = new ArrayList<>();

  private ChildProcess(Process process, String name) {
    this.process = process;
    this.name = name;
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                  lines.add(line);
                }
              } catch (IOException e) {
                log.debug("{}: stdout closed: {}", name, e.toString());
              } finally {
                lines.add(EOF);
              }
            },
            "child-stdout-" + name);
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * Starts {@code command} with stdout and stderr appended to {@code log}: for chatty programs
   * whose output is not read.
   */
  static ChildProcess startLogged(
      String name, List<String> command, Map<String, String> env, Path logFile) throws IOException {
    Files.createDirectories(logFile.toAbsolutePath().getParent());
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().putAll(env);
    builder.redirectErrorStream(true);
    builder.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    log.debug("starting {}: {}", name, String.join(" ", command));
    return new ChildProcess(builder.start(), name);
  }

  /**
   * Starts {@code command}, its stderr appended to {@code stderrLog}.
   *
   * @param env variables added to the suite's environment
   */
  static ChildProcess start(
      String name, List<String> command, Map<String, String> env, Path stderrLog)
      throws IOException {
    Files.createDirectories(stderrLog.toAbsolutePath().getParent());
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().putAll(env);
    builder.redirectError(ProcessBuilder.Redirect.appendTo(stderrLog.toFile()));
    log.debug("starting {}: {}", name, String.join(" ", command));
    return new ChildProcess(builder.start(), name);
  }

  /** The operating system's process id. */
  long pid() {
    return process.pid();
  }

  /** Writes {@code line} to the process's stdin. */
  void send(String line) throws IOException {
    process.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
    process.getOutputStream().flush();
  }

  /** Whether the process still runs. */
  boolean isAlive() {
    return process.isAlive();
  }

  /**
   * Waits for the first stdout line starting with {@code prefix} and returns it.
   *
   * @throws TimeoutException when none came within {@code timeout} or the process ended first
   */
  String awaitLine(String prefix, Duration timeout) throws InterruptedException, TimeoutException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      String line = left > 0 ? lines.poll(left, TimeUnit.NANOSECONDS) : null;
      if (line == null) {
        throw new TimeoutException(name + ": no line starting with '" + prefix + "' in " + timeout);
      }
      if (line.equals(EOF)) {
        lines.add(EOF);
        throw new TimeoutException(
            name + " ended (exit " + exitCode() + ") before printing '" + prefix + "'");
      }
      seen.add(line);
      if (line.startsWith(prefix)) {
        return line;
      }
    }
  }

  /**
   * Waits for the process to end by itself and returns its exit status.
   *
   * @throws TimeoutException when it still runs after {@code timeout} (it is then killed)
   */
  int waitFor(Duration timeout) throws InterruptedException, TimeoutException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      throw new TimeoutException(name + " still ran after " + timeout);
    }
    return process.exitValue();
  }

  /**
   * Sends SIGTERM, waits up to {@code timeout} for the process to end (then kills it) and returns
   * its exit status.
   */
  int stop(Duration timeout) throws InterruptedException {
    // Through the handle: Process.destroy() would also close our end of its stdout, losing what
    // it prints while stopping (the servers' stats line).
    process.toHandle().destroy();
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      log.warn("{} did not stop within {}; killing it", name, timeout);
      process.destroyForcibly();
      process.waitFor();
    }
    return process.exitValue();
  }

  /**
   * Waits until stdout is read to its end (after the process ended, its last lines may still be on
   * their way), at most {@code timeout}.
   */
  void awaitOutputEnd(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      String line = left > 0 ? lines.poll(left, TimeUnit.NANOSECONDS) : null;
      if (line == null) {
        log.warn("{}: stdout still open after {}", name, timeout);
        return;
      }
      if (line.equals(EOF)) {
        lines.add(EOF);
        return;
      }
      seen.add(line);
    }
  }

  /** The stdout lines printed so far, in order, drained from the queue. */
  List<String> output() {
    for (String line = lines.poll(); line != null; line = lines.poll()) {
      if (line.equals(EOF)) {
        lines.add(EOF);
        break;
      }
      seen.add(line);
    }
    return List.copyOf(seen);
  }

  /** The last stdout line starting with {@code prefix}, or null. */
  @Nullable String lastLine(String prefix) {
    List<String> all = output();
    for (int i = all.size() - 1; i >= 0; i--) {
      if (all.get(i).startsWith(prefix)) {
        return all.get(i);
      }
    }
    return null;
  }

  /** User plus system CPU time used so far, in seconds, from {@code /proc/<pid>/stat}. */
  double cpuSeconds() {
    return cpuSeconds(pid());
  }

  /** Resident set size in bytes, from {@code /proc/<pid>/status}, or -1 if unknown. */
  long rssBytes() {
    return rssBytes(pid());
  }

  static double cpuSeconds(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      // The command name in parentheses may hold spaces: fields count from after it.
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
      return ticks / (double) CLOCK_TICKS_PER_SECOND;
    } catch (IOException | RuntimeException e) {
      log.debug("no CPU time for {}: {}", pid, e.toString());
      return Double.NaN;
    }
  }

  static long rssBytes(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      log.debug("no RSS for {}: {}", pid, e.toString());
    }
    return -1;
  }

  private String exitCode() {
    return process.isAlive() ? "still running" : Integer.toString(process.exitValue());
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      try {
        stop(Duration.ofSeconds(10));
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }
}
