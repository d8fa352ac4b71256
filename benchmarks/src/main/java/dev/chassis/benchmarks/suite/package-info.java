/**
 * The benchmark suite behind {@code benchmarks/run.sh}: starts each server kind in its own pinned
 * JVM, drives it side by side with the others, runs the JMH, cross-check, start-up, footprint,
 * wire-size and profiling steps, and writes every table of {@code docs/benchmarks.md}: {@link
 * dev.chassis.benchmarks.suite.BenchmarkSuite}.
 */
@NullMarked
package dev.chassis.benchmarks.suite;

import org.jspecify.annotations.NullMarked;
