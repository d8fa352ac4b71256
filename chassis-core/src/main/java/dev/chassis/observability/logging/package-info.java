/**
 * Structured logging: the JSON console fragment ({@code chassis/logback-json.xml}) and the
 * interceptor that puts {@code grpc.method} into the MDC for the duration of each call callback.
 */
@NullMarked
package dev.chassis.observability.logging;

import org.jspecify.annotations.NullMarked;
