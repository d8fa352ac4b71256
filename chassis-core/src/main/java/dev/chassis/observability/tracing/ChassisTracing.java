package dev.chassis.observability.tracing;

import io.grpc.ClientInterceptor;
import io.grpc.ServerInterceptor;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.instrumentation.grpc.v1_6.GrpcTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.jspecify.annotations.Nullable;

/**
 * OpenTelemetry for Chassis services: the SDK, configured from the standard {@code OTEL_*}
 * environment variables (and {@code otel.*} system properties), and gRPC interceptors from
 * OpenTelemetry's own gRPC library instrumentation.
 *
 * <p>Defaults differ from a bare SDK in one way that matters: with no exporter endpoint configured
 * ({@code OTEL_TRACES_EXPORTER}, {@code OTEL_EXPORTER_OTLP_ENDPOINT} or {@code
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT}), spans are exported nowhere, yet trace context is still
 * created, propagated to other services and written to logs. The sampler is {@code
 * parentbased_traceidratio} (ratio 1.0; set {@code OTEL_TRACES_SAMPLER_ARG}), the service name
 * defaults to {@code chassis.service.name}, metrics and logs are not exported through OpenTelemetry
 * (metrics go to Prometheus through Micrometer).
 *
 * <p>To send traces to Jaeger, which ingests OTLP natively: {@code
 * OTEL_EXPORTER_OTLP_ENDPOINT=http://jaeger:4317}.
 */
public final class ChassisTracing {
  private static @Nullable OpenTelemetry defaultInstance;

  private ChassisTracing() {}

  /**
   * The process-wide OpenTelemetry that servers and {@code Chassis.channel} channels use unless
   * given another. Created on first use from the environment; its spans are flushed by the SDK's
   * shutdown hook when the JVM exits.
   */
  public static synchronized OpenTelemetry defaultOpenTelemetry(String serviceName) {
    if (defaultInstance == null) {
      defaultInstance = autoconfigure(serviceName, System.getenv(), System.getProperties());
    }
    return defaultInstance;
  }

  /** An SDK configured from {@code env} and {@code props} with the Chassis defaults. */
  static OpenTelemetrySdk autoconfigure(
      String serviceName, Map<String, String> env, Properties props) {
    Map<String, String> defaults = new HashMap<>();
    defaults.put("otel.service.name", serviceName);
    defaults.put("otel.metrics.exporter", "none");
    defaults.put("otel.logs.exporter", "none");
    defaults.put("otel.traces.sampler", "parentbased_traceidratio");
    defaults.put("otel.traces.sampler.arg", "1.0");
    if (!exportConfigured(env, props)) {
      defaults.put("otel.traces.exporter", "none");
    }
    return AutoConfiguredOpenTelemetrySdk.builder()
        .addPropertiesSupplier(() -> defaults)
        .addPropertiesSupplier(() -> systemProperties(props))
        .build()
        .getOpenTelemetrySdk();
  }

  static boolean exportConfigured(Map<String, String> env, Properties props) {
    return present(env.get("OTEL_TRACES_EXPORTER"))
        || present(env.get("OTEL_EXPORTER_OTLP_ENDPOINT"))
        || present(env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
        || present(props.getProperty("otel.traces.exporter"))
        || present(props.getProperty("otel.exporter.otlp.endpoint"))
        || present(props.getProperty("otel.exporter.otlp.traces.endpoint"));
  }

  private static Map<String, String> systemProperties(Properties props) {
    Map<String, String> otel = new HashMap<>();
    for (String name : props.stringPropertyNames()) {
      if (name.startsWith("otel.")) {
        otel.put(name, props.getProperty(name));
      }
    }
    return otel;
  }

  private static boolean present(@Nullable String value) {
    return value != null && !value.isBlank();
  }

  /**
   * Server spans ({@code SpanKind.SERVER}, RPC semantic conventions), continuing the trace of the
   * caller's {@code traceparent}; the span is current while the handler runs. Chassis installs it
   * outermost.
   */
  public static ServerInterceptor serverInterceptor(OpenTelemetry openTelemetry) {
    return GrpcTelemetry.create(openTelemetry).createServerInterceptor();
  }

  /**
   * Client spans ({@code SpanKind.CLIENT}), injecting {@code traceparent}, {@code tracestate} and
   * {@code baggage} into the call's metadata. {@code Chassis.channel} installs it.
   */
  public static ClientInterceptor clientInterceptor(OpenTelemetry openTelemetry) {
    return GrpcTelemetry.create(openTelemetry).createClientInterceptor();
  }
}
