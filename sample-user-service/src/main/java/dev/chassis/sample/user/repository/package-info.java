/**
 * Storage of users behind {@link dev.chassis.sample.user.repository.UserRepository}. The handler
 * never sees how users are stored; the in-memory implementation is the embedded default.
 */
@NullMarked
package dev.chassis.sample.user.repository;

import org.jspecify.annotations.NullMarked;
