package dev.chassis.observability.metrics;

import io.grpc.ClientInterceptor;
import io.grpc.ServerInterceptor;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Per-method gRPC call metrics under the names of gRFC A66 (grpc-java's standard metrics), so
 * dashboards written for gRPC's standard names work, recorded in Micrometer so they share one
 * {@code /metrics} with JVM, process and resilience metrics.
 *
 * <table>
 *   <caption>Meters (Prometheus names; prefix grpc_client_call_ on the client side)</caption>
 *   <tr><td>grpc_server_call_started_total</td><td>counter</td></tr>
 *   <tr><td>grpc_server_call_duration_seconds</td><td>histogram with A66's buckets, by grpc_status</td></tr>
 *   <tr><td>grpc_server_call_active</td><td>gauge: calls in flight</td></tr>
 *   <tr><td>grpc_server_call_sent_messages_total, grpc_server_call_rcvd_messages_total</td><td>counters</td></tr>
 * </table>
 *
 * <p>Tags: {@code grpc.method} (full name), {@code grpc.method_type}, {@code grpc.status} (code
 * name, on durations), {@code grpc.target} (client side), and the registry's common tags ({@code
 * service}). Meters are created once per method (and per status code), never per call.
 */
public final class GrpcMetrics {
  private GrpcMetrics() {}

  /** Server metrics; Chassis installs it second in the server chain, after tracing. */
  public static ServerInterceptor serverInterceptor(MeterRegistry registry) {
    return new MetricsServerInterceptor(registry);
  }

  /**
   * Client metrics for calls to {@code target} (the called service's name); {@code Chassis.channel}
   * installs it.
   */
  public static ClientInterceptor clientInterceptor(MeterRegistry registry, String target) {
    return new MetricsClientInterceptor(registry, target);
  }
}
