/**
 * Metrics: a Micrometer {@link io.micrometer.prometheusmetrics.PrometheusMeterRegistry} served at
 * the admin endpoint {@code /metrics}, with JVM and process metrics and a {@code service} tag.
 */
@NullMarked
package dev.chassis.observability.metrics;

import org.jspecify.annotations.NullMarked;
