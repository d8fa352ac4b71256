/**
 * Readiness of a service's dependencies. A {@link dev.chassis.health.ReadinessCheck} registered on
 * the server builder feeds both the gRPC health service ({@code grpc.health.v1}) and the admin
 * endpoint {@code /health/ready}.
 */
@NullMarked
package dev.chassis.health;

import org.jspecify.annotations.NullMarked;
