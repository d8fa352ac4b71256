/**
 * Cross-checks of the bench servers with load generators nobody here wrote: nghttp2's {@code
 * h2load} sending raw gRPC frames ({@link dev.chassis.benchmarks.cross.H2load}) and grpc-java's own
 * {@code qps_client} ({@link dev.chassis.benchmarks.cross.QpsClient}).
 */
@NullMarked
package dev.chassis.benchmarks.cross;

import org.jspecify.annotations.NullMarked;
