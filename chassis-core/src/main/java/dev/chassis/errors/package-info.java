/**
 * The error model: exceptions that handlers throw ({@link dev.chassis.errors.NotFoundException},
 * {@link dev.chassis.errors.InvalidArgumentException}, ...) and their mapping to gRPC statuses with
 * {@code google.rpc.Status} rich details. Unexpected exceptions become {@code INTERNAL} with a
 * generic message; the full exception goes to the log only.
 */
@NullMarked
package dev.chassis.errors;

import org.jspecify.annotations.NullMarked;
