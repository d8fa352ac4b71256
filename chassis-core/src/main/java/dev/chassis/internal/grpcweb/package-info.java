/**
 * The gRPC-Web server: browsers' calls over HTTP/1.1 and HTTP/2, translated to the same service
 * definitions and interceptors the gRPC server runs. Configured by {@code chassis.grpc-web.*} and
 * started by {@code ChassisServer}. Not API.
 */
@NullMarked
package dev.chassis.internal.grpcweb;

import org.jspecify.annotations.NullMarked;
