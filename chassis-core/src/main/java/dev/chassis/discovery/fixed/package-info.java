/**
 * The {@code static:} name resolver: {@code static:///host:port,host:port} resolves to a fixed list
 * of addresses, each its own subchannel so {@code round_robin} balances across them. Registered
 * with grpc-java through {@code META-INF/services/io.grpc.NameResolverProvider}.
 */
@NullMarked
package dev.chassis.discovery.fixed;

import org.jspecify.annotations.NullMarked;
