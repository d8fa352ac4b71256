/** Typed, validating reads of Typesafe Config. Not API. */
@NullMarked
package dev.chassis.internal.config;

import org.jspecify.annotations.NullMarked;
