/**
 * Resilience: a status-aware circuit breaker and default deadlines for clients; deadline bounds,
 * rate limits and concurrency limits (with an adaptive mode) for servers. Retries and hedging are
 * grpc-java's own, configured through the service config Chassis builds.
 */
@NullMarked
package dev.chassis.resilience;

import org.jspecify.annotations.NullMarked;
