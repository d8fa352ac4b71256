package dev.chassis.observability.metrics;

import io.grpc.netty.shaded.io.netty.util.internal.PlatformDependent;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/** Creates the registries Chassis services expose and binds the JVM and process metrics. */
public final class ChassisMetrics {
  private static final java.util.concurrent.ConcurrentMap<String, PrometheusMeterRegistry>
      defaults = new java.util.concurrent.ConcurrentHashMap<>();

  private ChassisMetrics() {}

  /**
   * The process-wide registry of a service: servers and {@code Chassis.channel} channels of that
   * service record into it unless given another, so one {@code /metrics} shows them all with
   * nothing wired by hand. Created on first use with the {@code service} tag and JVM and process
   * metrics; lives as long as the JVM.
   */
  public static PrometheusMeterRegistry defaultRegistry(String serviceName) {
    return defaults.computeIfAbsent(
        serviceName,
        name -> {
          PrometheusMeterRegistry registry = newPrometheusRegistry(name);
          bindSystemMetrics(registry);
          return registry;
        });
  }

  /**
   * A Prometheus registry with the common tag {@code service=<serviceName>}. The caller owns it and
   * closes it.
   */
  public static PrometheusMeterRegistry newPrometheusRegistry(String serviceName) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config().commonTags("service", serviceName);
    return registry;
  }

  /**
   * grpc's (shaded) Netty allocates direct memory without JDK cleaners where it can, which the
   * JVM's buffer-pool metrics do not see; Netty counts it itself. -1 when Netty does not track it.
   */
  private static void bindNettyMetrics(MeterRegistry registry) {
    Gauge.builder("netty.direct.memory.used", PlatformDependent::usedDirectMemory)
        .description("Direct memory Netty (grpc-netty-shaded) has allocated; -1 if not tracked")
        .baseUnit("bytes")
        .register(registry);
    Gauge.builder("netty.direct.memory.max", PlatformDependent::maxDirectMemory)
        .description("Direct memory Netty (grpc-netty-shaded) may allocate")
        .baseUnit("bytes")
        .register(registry);
  }

  /**
   * Binds JVM (memory, GC, threads, class loading), process (CPU, uptime, open files) and Netty
   * direct-memory metrics to {@code registry}. Close the returned handle when the registry is no
   * longer served: the GC metrics hold listeners on the JVM's GC beans until then.
   */
  public static AutoCloseable bindSystemMetrics(MeterRegistry registry) {
    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    bindNettyMetrics(registry);
    return gc::close;
  }
}
