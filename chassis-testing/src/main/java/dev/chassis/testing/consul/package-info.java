/**
 * An in-process Consul agent for tests of service registration and discovery: {@link
 * dev.chassis.testing.consul.ConsulDouble} serves Consul's HTTP API on a loopback port with
 * Consul's semantics (registration decoding and validation, TTL and gRPC checks, {@code ?passing},
 * blocking queries with {@code X-Consul-Index}, deregistration reaping) and adds Java hooks to
 * drive health, move a virtual clock, lose state or go away.
 *
 * <pre>{@code
 * try (ConsulDouble consul = ConsulDouble.start()) {
 *   startServiceUnderTest(consul.address());   // what CONSUL_HTTP_ADDR would hold
 *   await().until(() -> consul.instances("user-service").size() == 1);
 * }
 * }</pre>
 */
@NullMarked
package dev.chassis.testing.consul;

import org.jspecify.annotations.NullMarked;
