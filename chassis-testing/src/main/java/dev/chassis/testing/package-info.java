/**
 * Test support for services built on Chassis: {@link dev.chassis.testing.ChassisServerExtension}
 * runs a service in-process behind the production interceptor chain, and {@link
 * dev.chassis.testing.GrpcAssertions} asserts on gRPC failures and their rich error details.
 */
@NullMarked
package dev.chassis.testing;

import org.jspecify.annotations.NullMarked;
