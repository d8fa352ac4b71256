package dev.chassis.sample.user.repository;

import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/** Where users live. Implementations are thread-safe. */
public interface UserRepository {
  /**
   * Stores a new user with a generated id.
   *
   * @throws EmailAlreadyUsedException when another user has the same email, ignoring case; of
   *     concurrent creates with one email exactly one succeeds
   */
  UserRecord create(String name, String email);

  /** The user with this id, if any. */
  Optional<UserRecord> find(UUID id);

  /**
   * Up to {@code limit} users ordered by id (as a lowercase string), starting after {@code after}
   * (null: from the first). Keyset pagination: stable while users are added or removed.
   */
  List<UserRecord> list(@Nullable UUID after, int limit);

  /** Deletes the user; returns whether one existed. */
  boolean delete(UUID id);

  /** Whether the repository can serve requests now; used as a readiness check. */
  boolean ping();
}
