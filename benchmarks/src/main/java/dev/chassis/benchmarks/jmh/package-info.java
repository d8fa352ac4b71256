/**
 * JMH microbenchmarks: the per-call cost (time and allocation) of Chassis' interceptors, run with
 * JMH's own runner; see {@link dev.chassis.benchmarks.jmh.InterceptorChainBenchmark}.
 */
@NullMarked
package dev.chassis.benchmarks.jmh;

import org.jspecify.annotations.NullMarked;
