/**
 * A ghz-like load generator for the benchmark servers, gRPC or REST, closed or open model: {@link
 * dev.chassis.benchmarks.load.LoadMain}.
 */
@NullMarked
package dev.chassis.benchmarks.load;

import org.jspecify.annotations.NullMarked;
