package dev.chassis.benchmarks.suite;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Small helpers for finding and starting programs. */
final class Tools {
  private Tools() {}

  /** Whether an executable named {@code program} is on the {@code PATH}. */
  static boolean onPath(String program) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dir, program))) {
        return true;
      }
    }
    return false;
  }

  /** This JVM's {@code java} launcher. */
  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** This JVM's {@code jcmd}. */
  static String jcmd() {
    return Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
  }

  /** {@code taskset -c cpus} followed by {@code command}, or {@code command} when cpus is empty. */
  static List<String> pinned(String cpus, List<String> command) {
    List<String> pinned = new ArrayList<>();
    if (!cpus.isEmpty()) {
      pinned.add("taskset");
      pinned.add("-c");
      pinned.add(cpus);
    }
    pinned.addAll(command);
    return pinned;
  }

  /**
   * The machine's online CPUs (not this JVM's share: the suite itself runs pinned to one), from
   * {@code /sys/devices/system/cpu/online}, such as {@code 0-1}.
   */
  static String machineCpus() {
    try {
      return Files.readString(Path.of("/sys/devices/system/cpu/online")).strip();
    } catch (IOException e) {
      return "0-" + (Runtime.getRuntime().availableProcessors() - 1);
    }
  }

  /** How many CPUs {@link #machineCpus()} lists. */
  static int machineCpuCount() {
    int count = 0;
    for (String range : machineCpus().split(",")) {
      String[] ends = range.split("-");
      try {
        count += ends.length == 1 ? 1 : Integer.parseInt(ends[1]) - Integer.parseInt(ends[0]) + 1;
      } catch (NumberFormatException e) {
        return Runtime.getRuntime().availableProcessors();
      }
    }
    return count;
  }

  /** The highest-numbered online CPU. */
  static int lastCpu() {
    String cpus = machineCpus();
    String last = cpus.substring(Math.max(cpus.lastIndexOf(','), cpus.lastIndexOf('-')) + 1);
    return Integer.parseInt(last.trim());
  }

  /** A loopback port free right now. */
  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /** The CPUs this process may run on, as {@code /proc/self/status} lists them, or "?". */
  static String ownCpus() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Cpus_allowed_list:")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException e) {
      return "?";
    }
    return "?";
  }

  /**
   * Runs {@code command} to completion and returns its stdout.
   *
   * @throws IOException when it fails to start or exits non-zero
   */
  static String output(List<String> command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] bytes = process.getInputStream().readAllBytes();
    int exit = process.waitFor();
    String text = new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
    if (exit != 0) {
      throw new IOException(String.join(" ", command) + " exited " + exit + ": " + text);
    }
    return text;
  }
}
