/**
 * Tracing: OpenTelemetry's own gRPC instrumentation for server and client spans (RPC semantic
 * conventions, W3C trace context and baggage in gRPC metadata), and an SDK configured from the
 * standard {@code OTEL_*} environment variables.
 */
@NullMarked
package dev.chassis.observability.tracing;

import org.jspecify.annotations.NullMarked;
