/**
 * The server: {@link dev.chassis.server.ChassisServer} builds and runs a grpc-java Netty server
 * with health, reflection, the interceptor chain, the admin HTTP endpoint and graceful drain.
 */
@NullMarked
package dev.chassis.server;

import org.jspecify.annotations.NullMarked;
