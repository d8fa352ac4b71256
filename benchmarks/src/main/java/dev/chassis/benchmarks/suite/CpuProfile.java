package dev.chassis.benchmarks.suite;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * CPU samples of one async-profiler run (collapsed stacks: {@code frame;frame;...;leaf count})
 * attributed to components: each sample goes to the first frame from the leaf that is Java code
 * outside the JDK (so a {@code HashMap.put} or a socket write made by Netty counts as Netty),
 * classified by package; samples without one are JVM threads (GC, JIT compiler) or JDK-only stacks.
 */
final class CpuProfile {
  /** Package prefixes (with '/') and their components; the first match wins. */
  private static final List<String[]> COMPONENTS =
      List.of(
          new String[] {"io/grpc/netty/shaded/io/netty/", "Netty (HTTP/2 codec, sockets)"},
          new String[] {"io/grpc/netty/shaded/", "grpc-java Netty transport"},
          new String[] {"io/grpc/protobuf/", "protobuf (de)serialization"},
          new String[] {"com/google/protobuf/", "protobuf (de)serialization"},
          new String[] {"io/grpc/", "grpc-java core"},
          new String[] {"io/opentelemetry/", "OpenTelemetry (tracing, context bridge)"},
          new String[] {"io/micrometer/", "Micrometer (metrics)"},
          new String[] {"ch/qos/logback/", "access log (logback, logstash encoder, Jackson)"},
          new String[] {"net/logstash/", "access log (logback, logstash encoder, Jackson)"},
          new String[] {
            "com/fasterxml/jackson/", "access log (logback, logstash encoder, Jackson)"
          },
          new String[] {"org/slf4j/", "access log (logback, logstash encoder, Jackson)"},
          new String[] {"com/netflix/concurrency", "limits (concurrency-limits, resilience4j)"},
          new String[] {"io/github/resilience4j/", "limits (concurrency-limits, resilience4j)"},
          new String[] {"dev/chassis/benchmarks/", "the service handler"},
          new String[] {"dev/chassis/", "Chassis interceptors"});

  static final String JVM = "JVM (GC, JIT compiler, VM threads)";
  static final String JDK_ONLY = "JDK only (thread pools, queues)";

  private final Map<String, Long> samples = new HashMap<>();
  private final Map<String, Long> methods = new HashMap<>();
  private long total;

  private CpuProfile() {}

  /** Reads collapsed stacks from {@code file}. */
  static CpuProfile read(Path file) throws IOException {
    CpuProfile profile = new CpuProfile();
    for (String line : Files.readAllLines(file)) {
      int space = line.lastIndexOf(' ');
      if (space <= 0) {
        continue;
      }
      long count = Long.parseLong(line.substring(space + 1).trim());
      String[] frames = line.substring(0, space).split(";");
      String own = null;
      boolean anyJava = false;
      for (int i = frames.length - 1; i >= 0 && own == null; i--) {
        String frame = frames[i];
        if (isJava(frame)) {
          anyJava = true;
          if (!isJdk(frame)) {
            own = frame;
          }
        }
      }
      String component;
      if (own != null) {
        component = component(own);
        profile.methods.merge(own.replace('/', '.'), count, Long::sum);
      } else {
        component = anyJava ? JDK_ONLY : JVM;
      }
      profile.samples.merge(component, count, Long::sum);
      profile.total += count;
    }
    return profile;
  }

  /**
   * Java frames look like {@code io/grpc/Foo.bar} (C++ frames have {@code ::}, kernel ones
   * neither).
   */
  private static boolean isJava(String frame) {
    return frame.indexOf('/') > 0 && frame.indexOf('.') > 0 && !frame.contains("::");
  }

  private static boolean isJdk(String frame) {
    return frame.startsWith("java/")
        || frame.startsWith("javax/")
        || frame.startsWith("jdk/")
        || frame.startsWith("sun/")
        || frame.startsWith("com/sun/");
  }

  private static String component(String frame) {
    for (String[] component : COMPONENTS) {
      if (frame.startsWith(component[0])) {
        return component[1];
      }
    }
    return "other libraries";
  }

  long total() {
    return total;
  }

  /** Share (0..1) of the samples charged to {@code component}. */
  double share(String component) {
    return total == 0 ? 0 : samples.getOrDefault(component, 0L) / (double) total;
  }

  Set<String> components() {
    return new TreeSet<>(samples.keySet());
  }

  /** The {@code n} methods charged with most samples, with their shares. */
  Map<String, Double> hottest(int n) {
    Map<String, Double> top = new LinkedHashMap<>();
    methods.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .limit(n)
        .forEach(e -> top.put(e.getKey(), e.getValue() / (double) total));
    return top;
  }
}
