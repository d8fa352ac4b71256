package dev.chassis.sample.user.repository;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import org.jspecify.annotations.Nullable;

/**
 * Users in memory: the embedded default, so the service runs with no database server. Lost on
 * restart. Thread-safe without locks: the email index is claimed first, atomically, so of two
 * concurrent creates with one email exactly one wins.
 */
public final class InMemoryUserRepository implements UserRepository {
  // Keyed by the id's string form so iteration order matches PostgreSQL's uuid order.
  private final NavigableMap<String, UserRecord> usersById = new ConcurrentSkipListMap<>();
  private final Map<String, UUID> idsByEmail = new ConcurrentHashMap<>();
  private final Clock clock;

  public InMemoryUserRepository() {
    this(Clock.systemUTC());
  }

  public InMemoryUserRepository(Clock clock) {
    this.clock = clock;
  }

  @Override
  public UserRecord create(String name, String email) {
    UUID id = UUID.randomUUID();
    if (idsByEmail.putIfAbsent(emailKey(email), id) != null) {
      throw new EmailAlreadyUsedException(email);
    }
    Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
    UserRecord user = new UserRecord(id, name, email, now);
    usersById.put(id.toString(), user);
    return user;
  }

  @Override
  public Optional<UserRecord> find(UUID id) {
    return Optional.ofNullable(usersById.get(id.toString()));
  }

  @Override
  public List<UserRecord> list(@Nullable UUID after, int limit) {
    NavigableMap<String, UserRecord> tail =
        after == null ? usersById : usersById.tailMap(after.toString(), false);
    List<UserRecord> page = new ArrayList<>(Math.min(limit, 256));
    for (UserRecord user : tail.values()) {
      if (page.size() >= limit) {
        break;
      }
      page.add(user);
    }
    return page;
  }

  @Override
  public boolean delete(UUID id) {
    UserRecord removed = usersById.remove(id.toString());
    if (removed == null) {
      return false;
    }
    idsByEmail.remove(emailKey(removed.email()), id);
    return true;
  }

  @Override
  public boolean ping() {
    return true;
  }

  private static String emailKey(String email) {
    return email.toLowerCase(Locale.ROOT);
  }
}
