/**
 * The sample user service, built the way Chassis tells users to build theirs: the API in {@code
 * src/main/proto/user/v1/user.proto}, server wiring in {@link
 * dev.chassis.sample.user.UserServiceMain}, the gRPC handler in {@code handler}, storage behind
 * {@code repository}, and a command-line client in {@code client}.
 */
@NullMarked
package dev.chassis.sample.user;

import org.jspecify.annotations.NullMarked;
