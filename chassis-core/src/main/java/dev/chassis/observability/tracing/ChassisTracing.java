package dev.chassis.observability.tracing;

import io.grpc.ClientInterceptor;
import io.grpc.ServerInterceptor;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.instrumentation.grpc.v1_6.GrpcTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
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
  private static @Nullable OpenTelemetrySdk defaultSdk;

  private ChassisTracing() {}

  /**
   * The process-wide OpenTelemetry that servers and {@code Chassis.channel} channels use unless
   * given another: the {@link GlobalOpenTelemetry} if one is set (the Java agent), else an SDK
   * created on first use from the environment and registered as the global one. Servers flush it
   * after they drain ({@link #flushDefault}).
   */
  public static synchronized OpenTelemetry defaultOpenTelemetry(String serviceName) {
    if (defaultInstance == null) {
      if (GlobalOpenTelemetry.isSet()) {
        // Someone (the OpenTelemetry Java agent, the application) configured one: use it, so
        // spans are not produced twice and application code sees the same SDK.
        defaultInstance = GlobalOpenTelemetry.get();
      } else {
        OpenTelemetrySdk sdk = autoconfigure(serviceName, System.getenv(), System.getProperties());
        GlobalOpenTelemetry.set(sdk);
        defaultSdk = sdk;
        defaultInstance = sdk;
      }
    }
    return defaultInstance;
  }

  /**
   * Exports the spans the default SDK still buffers, waiting up to {@code timeout}. Servers call it
   * after their drain: the SDK's own shutdown hook is off, because it would race the drain and drop
   * the spans of calls still finishing.
   */
  public static void flushDefault(Duration timeout) {
    OpenTelemetrySdk sdk;
    synchronized (ChassisTracing.class) {
      sdk = defaultSdk;
    }
    if (sdk != null) {
      sdk.getSdkTracerProvider().forceFlush().join(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** An SDK configured from {@code env} and {@code props} with the Chassis defaults. */
  static OpenTelemetrySdk autoconfigure(
      String serviceName, Map<String, String> env, Properties props) {
    Map<String, String> defaults = new HashMap<>();
    if (!serviceNameConfigured(env, props)) {
      // otel.service.name would override service.name in OTEL_RESOURCE_ATTRIBUTES; only default.
      defaults.put("otel.service.name", serviceName);
    }
    defaults.put("otel.metrics.exporter", "none");
    defaults.put("otel.logs.exporter", "none");
    defaults.put("otel.traces.sampler", "parentbased_traceidratio");
    defaults.put("otel.traces.sampler.arg", "1.0");
    if (!exportConfigured(env, props)) {
      defaults.put("otel.traces.exporter", "none");
    }
    // Later suppliers win; the real environment and system properties win over both.
    return AutoConfiguredOpenTelemetrySdk.builder()
        .addPropertiesSupplier(() -> defaults)
        .addPropertiesSupplier(() -> systemProperties(props))
        .disableShutdownHook()
        .build()
        .getOpenTelemetrySdk();
  }

  static boolean serviceNameConfigured(Map<String, String> env, Properties props) {
    return present(env.get("OTEL_SERVICE_NAME"))
        || present(props.getProperty("otel.service.name"))
        || containsServiceName(env.get("OTEL_RESOURCE_ATTRIBUTES"))
        || containsServiceName(props.getProperty("otel.resource.attributes"));
  }

  private static boolean containsServiceName(@Nullable String attributes) {
    if (attributes == null) {
      return false;
    }
    for (String pair : attributes.split(",")) {
      if (pair.trim().startsWith("service.name=")) {
        return true;
      }
    }
    return false;
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
