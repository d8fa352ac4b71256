/** Runs readiness checks and drives the gRPC health status. Not API. */
@NullMarked
package dev.chassis.internal.health;

import org.jspecify.annotations.NullMarked;
