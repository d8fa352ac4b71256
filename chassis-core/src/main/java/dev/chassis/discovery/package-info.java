/**
 * Service discovery: the {@link dev.chassis.discovery.ServiceRegistry} SPI a server registers
 * through, Consul registration and the {@code consul:} resolver in {@link
 * dev.chassis.discovery.consul}, and the {@code static:} resolver in {@link
 * dev.chassis.discovery.fixed}.
 */
@NullMarked
package dev.chassis.discovery;

import org.jspecify.annotations.NullMarked;
