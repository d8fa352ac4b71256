/** Measuring what crosses the network: {@link dev.chassis.benchmarks.wire.ByteCountingProxy}. */
@NullMarked
package dev.chassis.benchmarks.wire;

import org.jspecify.annotations.NullMarked;
