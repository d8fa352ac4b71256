/** grpc-java building blocks shared by Chassis interceptors and channels. Not API. */
@NullMarked
package dev.chassis.internal.grpc;

import org.jspecify.annotations.NullMarked;
