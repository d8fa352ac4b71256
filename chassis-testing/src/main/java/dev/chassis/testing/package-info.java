/**
 * Test support for services built on Chassis: {@link dev.chassis.testing.ChassisServerExtension}
 * runs a service in-process behind the production interceptor chain, and {@link
 * dev.chassis.testing.GrpcAssertions} asserts on gRPC failures and their rich error details, and
 * {@link dev.chassis.testing.PeerRecorder} records which server answered each call. The Consul
 * agent double is in {@link dev.chassis.testing.consul}.
 */
@NullMarked
package dev.chassis.testing;

import org.jspecify.annotations.NullMarked;
