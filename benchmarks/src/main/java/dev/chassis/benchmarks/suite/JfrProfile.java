package dev.chassis.benchmarks.suite;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * CPU samples and allocation of one flight recording, attributed to components: each sample goes to
 * the first frame from the top that is not JDK code (so {@code HashMap.put} called by OpenTelemetry
 * counts as OpenTelemetry), classified by package.
 */
final class JfrProfile {
  /** Package prefixes and the component they belong to; the first match wins. */
  private static final List<String[]> COMPONENTS =
      List.of(
          new String[] {"io.grpc.netty.shaded.io.netty.", "Netty (HTTP/2 codec, sockets)"},
          new String[] {"io.grpc.netty.shaded.", "grpc-java Netty transport"},
          new String[] {"io.grpc.protobuf.", "protobuf (de)serialization"},
          new String[] {"com.google.protobuf.", "protobuf (de)serialization"},
          new String[] {"io.grpc.", "grpc-java core"},
          new String[] {"io.opentelemetry.", "OpenTelemetry (tracing)"},
          new String[] {"io.micrometer.", "Micrometer (metrics)"},
          new String[] {"ch.qos.logback.", "access log (logback, logstash encoder, Jackson)"},
          new String[] {"net.logstash.", "access log (logback, logstash encoder, Jackson)"},
          new String[] {
            "com.fasterxml.jackson.", "access log (logback, logstash encoder, Jackson)"
          },
          new String[] {"org.slf4j.", "access log (logback, logstash encoder, Jackson)"},
          new String[] {"com.netflix.concurrency", "limits (concurrency-limits, resilience4j)"},
          new String[] {"io.github.resilience4j.", "limits (concurrency-limits, resilience4j)"},
          new String[] {"dev.chassis.benchmarks.", "the service handler"},
          new String[] {"dev.chassis.", "Chassis interceptors"});

  static final String JDK_ONLY = "JDK only (threads, queues, sockets)";

  private final Map<String, Long> cpuSamples = new HashMap<>();
  private final Map<String, Double> allocatedBytes = new HashMap<>();
  private final Map<String, Long> hotMethods = new HashMap<>();
  private long totalSamples;

  private JfrProfile() {}

  /** Reads {@code recording}. */
  static JfrProfile read(Path recording) throws IOException {
    JfrProfile profile = new JfrProfile();
    for (RecordedEvent event : RecordingFile.readAllEvents(recording)) {
      String type = event.getEventType().getName();
      if (type.equals("jdk.ExecutionSample")) {
        RecordedFrame frame = firstOwnFrame(event.getStackTrace());
        String component = component(frame);
        profile.cpuSamples.merge(component, 1L, Long::sum);
        profile.totalSamples++;
        if (frame != null) {
          String method = frame.getMethod().getType().getName() + "." + frame.getMethod().getName();
          profile.hotMethods.merge(method, 1L, Long::sum);
        }
      } else if (type.equals("jdk.ObjectAllocationSample")) {
        String component = component(firstOwnFrame(event.getStackTrace()));
        profile.allocatedBytes.merge(component, (double) event.getLong("weight"), Double::sum);
      }
    }
    return profile;
  }

  private static RecordedFrame firstOwnFrame(RecordedStackTrace stack) {
    if (stack == null) {
      return null;
    }
    for (RecordedFrame frame : stack.getFrames()) {
      if (!frame.isJavaFrame()) {
        continue;
      }
      String type = frame.getMethod().getType().getName();
      if (!isJdk(type)) {
        return frame;
      }
    }
    return null;
  }

  private static boolean isJdk(String type) {
    return type.startsWith("java.")
        || type.startsWith("javax.")
        || type.startsWith("jdk.")
        || type.startsWith("sun.")
        || type.startsWith("com.sun.");
  }

  private static String component(RecordedFrame frame) {
    if (frame == null) {
      return JDK_ONLY;
    }
    String type = frame.getMethod().getType().getName();
    for (String[] component : COMPONENTS) {
      if (type.startsWith(component[0])) {
        return component[1];
      }
    }
    return "other libraries";
  }

  /** Share of CPU samples (0..1) that went to {@code component}. */
  double cpuShare(String component) {
    return totalSamples == 0 ? 0 : cpuSamples.getOrDefault(component, 0L) / (double) totalSamples;
  }

  /** Estimated bytes allocated by {@code component} over the recording. */
  double allocated(String component) {
    return allocatedBytes.getOrDefault(component, 0.0);
  }

  long totalSamples() {
    return totalSamples;
  }

  /** Every component seen. */
  java.util.Set<String> components() {
    java.util.Set<String> all = new java.util.TreeSet<>(cpuSamples.keySet());
    all.addAll(allocatedBytes.keySet());
    return all;
  }

  /** The {@code n} methods with most samples, as {@code name -> share}. */
  Map<String, Double> hottest(int n) {
    Map<String, Double> top = new java.util.LinkedHashMap<>();
    hotMethods.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .limit(n)
        .forEach(e -> top.put(e.getKey(), e.getValue() / (double) totalSamples));
    return top;
  }
}
