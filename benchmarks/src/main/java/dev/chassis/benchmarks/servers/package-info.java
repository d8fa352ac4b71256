/**
 * The servers under load: the sample's user service logic ({@link
 * dev.chassis.benchmarks.servers.BenchUserService}) on bare grpc-java, on Chassis, and as JSON over
 * HTTP/1.1, all started by {@link dev.chassis.benchmarks.servers.BenchServers}.
 */
@NullMarked
package dev.chassis.benchmarks.servers;

import org.jspecify.annotations.NullMarked;
