package dev.chassis.benchmarks.servers;

import com.google.protobuf.Timestamp;
import dev.chassis.sample.user.v1.User;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The sample's in-memory user repository and validation, shared by the gRPC and REST servers.
 * Failures are {@link StatusRuntimeException}s with the sample's codes: INVALID_ARGUMENT,
 * NOT_FOUND, ALREADY_EXISTS. Thread-safe without locks: the email index is claimed first.
 */
final class UserStore {
  static final int MAX_NAME_LENGTH = 200;
  static final int MAX_EMAIL_LENGTH = 254;

  private static final Pattern EMAIL = Pattern.compile("[^\\s@]+@[^\\s@]+\\.[^\\s@]+");
  private static final Pattern CONTROL = Pattern.compile("\\p{Cntrl}");

  // Keyed by the id's string form, so ListUsers pages by id like the sample.
  private final NavigableMap<String, User> usersById = new ConcurrentSkipListMap<>();
  private final Map<String, String> idsByEmail = new ConcurrentHashMap<>();

  /** The id of seeded user {@code index}: stable across runs, so clients know it in advance. */
  static String seedId(int index) {
    return UUID.nameUUIDFromBytes(("bench-user-" + index).getBytes(StandardCharsets.UTF_8))
        .toString();
  }

  /** Adds users 0..count-1 with {@link #seedId} ids. */
  void seed(int count) {
    Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
    for (int i = 0; i < count; i++) {
      String email = "user-" + i + "@example.com";
      insert(seedId(i), "User " + i, email, now);
    }
  }

  /** How many users are stored. */
  int size() {
    return usersById.size();
  }

  User get(String id) {
    User user = usersById.get(requireId("id", id));
    if (user == null) {
      throw Status.NOT_FOUND.withDescription("user not found: " + id).asRuntimeException();
    }
    return user;
  }

  User create(String rawName, String rawEmail) {
    String name = rawName.strip();
    String email = rawEmail.strip();
    List<String> violations = new ArrayList<>();
    if (name.isEmpty()) {
      violations.add("name: must not be empty");
    } else if (name.length() > MAX_NAME_LENGTH) {
      violations.add("name: must be at most " + MAX_NAME_LENGTH + " characters");
    } else if (CONTROL.matcher(name).find()) {
      violations.add("name: must not contain control characters");
    }
    if (email.isEmpty()) {
      violations.add("email: must not be empty");
    } else if (email.length() > MAX_EMAIL_LENGTH
        || !EMAIL.matcher(email).matches()
        || CONTROL.matcher(email).find()) {
      violations.add("email: must be a valid email address");
    }
    if (!violations.isEmpty()) {
      throw invalid(String.join("; ", violations));
    }
    User user =
        insert(
            UUID.randomUUID().toString(),
            name,
            email,
            Instant.now().truncatedTo(ChronoUnit.MICROS));
    if (user == null) {
      throw Status.ALREADY_EXISTS
          .withDescription("a user with email " + email + " already exists")
          .asRuntimeException();
    }
    return user;
  }

  /**
   * Users ordered by id after {@code pageToken} (empty: from the start), at most pageSize (0: all).
   */
  List<User> list(int pageSize, String pageToken) {
    if (pageSize < 0) {
      throw invalid("page_size: must be 0 (all) or more");
    }
    NavigableMap<String, User> tail = usersById;
    if (!pageToken.isEmpty()) {
      if (!isUuid(pageToken)) {
        throw invalid("page_token: must be the id of the last user received");
      }
      tail = usersById.tailMap(pageToken, false);
    }
    int limit = pageSize == 0 ? Integer.MAX_VALUE : pageSize;
    List<User> page = new ArrayList<>(Math.min(limit, 256));
    for (User user : tail.values()) {
      if (page.size() >= limit) {
        break;
      }
      page.add(user);
    }
    return page;
  }

  void delete(String id) {
    User removed = usersById.remove(requireId("id", id));
    if (removed == null) {
      throw Status.NOT_FOUND.withDescription("user not found: " + id).asRuntimeException();
    }
    idsByEmail.remove(emailKey(removed.getEmail()), id);
  }

  private @Nullable User insert(String id, String name, String email, Instant createTime) {
    if (idsByEmail.putIfAbsent(emailKey(email), id) != null) {
      return null;
    }
    User user =
        User.newBuilder()
            .setId(id)
            .setName(name)
            .setEmail(email)
            .setCreateTime(
                Timestamp.newBuilder()
                    .setSeconds(createTime.getEpochSecond())
                    .setNanos(createTime.getNano()))
            .build();
    usersById.put(id, user);
    return user;
  }

  private static String requireId(String field, String value) {
    if (!isUuid(value)) {
      throw invalid(field + ": must be a user id (a UUID)");
    }
    return value.toLowerCase(Locale.ROOT);
  }

  private static boolean isUuid(String value) {
    // Like the sample: only the canonical 36-character form.
    if (value.length() != 36) {
      return false;
    }
    try {
      UUID.fromString(value);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static StatusRuntimeException invalid(String message) {
    return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
  }

  private static String emailKey(String email) {
    return email.toLowerCase(Locale.ROOT);
  }
}
