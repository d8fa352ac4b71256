/**
 * Service discovery: name resolvers Chassis registers with grpc-java ({@code static:} in {@link
 * dev.chassis.discovery.fixed}; Consul comes with the discovery work).
 */
@NullMarked
package dev.chassis.discovery;

import org.jspecify.annotations.NullMarked;
