/**
 * Chassis: production-grade gRPC services on stock grpc-java. Start with {@link
 * dev.chassis.Chassis} and {@link dev.chassis.ChassisConfig}.
 */
@NullMarked
package dev.chassis;

import org.jspecify.annotations.NullMarked;
