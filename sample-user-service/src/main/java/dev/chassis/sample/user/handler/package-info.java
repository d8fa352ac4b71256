/**
 * The gRPC handler of {@code user.v1.UserService}: request validation, the mapping between the
 * API's messages and the repository's records, and the Chassis error model.
 */
@NullMarked
package dev.chassis.sample.user.handler;

import org.jspecify.annotations.NullMarked;
