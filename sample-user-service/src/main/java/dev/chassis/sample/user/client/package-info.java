/** A command-line client of the user service, built on {@code Chassis.channel}. */
@NullMarked
package dev.chassis.sample.user.client;

import org.jspecify.annotations.NullMarked;
