package dev.chassis.benchmarks.load;

import com.google.common.net.HostAndPort;

/** {@code HOST:PORT} command-line targets, parsed by Guava's {@link HostAndPort}. */
public final class Targets {
  private Targets() {}

  /**
   * Parses {@code host:port} ({@code [v6]:port} for IPv6); the host comes without brackets.
   *
   * @throws IllegalArgumentException when there is no host or no port
   */
  public static HostAndPort parse(String target) {
    try {
      HostAndPort parsed = HostAndPort.fromString(target);
      if (parsed.hasPort() && !parsed.getHost().isEmpty()) {
        return parsed;
      }
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("target: " + target + " (expected: HOST:PORT)", e);
    }
    throw new IllegalArgumentException("target: " + target + " (expected: HOST:PORT)");
  }
}
