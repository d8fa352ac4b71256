package dev.chassis.sample.user.repository;

import java.time.Instant;
import java.util.UUID;

/** A stored user. The repository's own type: the handler maps it to the API's {@code User}. */
public record UserRecord(UUID id, String name, String email, Instant createTime) {}
