/**
 * Consul discovery: {@link dev.chassis.discovery.consul.ConsulServiceRegistry} registers a server
 * with a native gRPC health check (or a TTL heartbeat) and deregisters it first thing in the drain;
 * {@link dev.chassis.discovery.consul.ConsulNameResolverProvider} resolves {@code
 * consul:///service-name} to the passing instances with blocking queries. Both are wired by Chassis
 * when {@code chassis.discovery.consul.address} (or {@code CONSUL_HTTP_ADDR}) is set; see {@code
 * docs/discovery.md}.
 */
@NullMarked
package dev.chassis.discovery.consul;

import org.jspecify.annotations.NullMarked;
