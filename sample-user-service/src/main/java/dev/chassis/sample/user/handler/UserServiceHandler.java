package dev.chassis.sample.user.handler;

import com.google.protobuf.Empty;
import com.google.protobuf.Timestamp;
import dev.chassis.errors.AlreadyExistsException;
import dev.chassis.errors.ErrorStatuses;
import dev.chassis.errors.InvalidArgumentException;
import dev.chassis.errors.NotFoundException;
import dev.chassis.errors.ServiceException;
import dev.chassis.errors.UnavailableException;
import dev.chassis.sample.user.repository.EmailAlreadyUsedException;
import dev.chassis.sample.user.repository.RepositoryException;
import dev.chassis.sample.user.repository.RepositoryUnavailableException;
import dev.chassis.sample.user.repository.UserRecord;
import dev.chassis.sample.user.repository.UserRepository;
import dev.chassis.sample.user.v1.CreateUserRequest;
import dev.chassis.sample.user.v1.DeleteUserRequest;
import dev.chassis.sample.user.v1.GetUserRequest;
import dev.chassis.sample.user.v1.ImportUsersResponse;
import dev.chassis.sample.user.v1.ListUsersRequest;
import dev.chassis.sample.user.v1.User;
import dev.chassis.sample.user.v1.UserServiceGrpc;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Implements {@code user.v1.UserService}.
 *
 * <p>Handlers in Chassis throw: {@link InvalidArgumentException}, {@link NotFoundException} and
 * {@link AlreadyExistsException} become INVALID_ARGUMENT, NOT_FOUND and ALREADY_EXISTS with rich
 * details, and anything unexpected becomes INTERNAL with a generic message while the full exception
 * goes to the log. No try/catch for the error model is needed here. Repository failures go through
 * one place ({@code fromRepository}): a database that cannot be reached becomes UNAVAILABLE with a
 * retry delay, anything else INTERNAL with a short message such as "failed to fetch user".
 *
 * <p>The two streaming methods respect flow control: they only produce while the client can take
 * more ({@code isReady}) and only read the next request once the previous response could be sent
 * ({@code request(1)}), so a slow or fast client cannot make the server buffer without bound.
 */
public final class UserServiceHandler extends UserServiceGrpc.UserServiceImplBase {
  private static final Logger logger = LoggerFactory.getLogger(UserServiceHandler.class);

  /** Longest accepted name, in characters. */
  static final int MAX_NAME_LENGTH = 200;

  /** Longest accepted email (RFC 5321's path limit). */
  static final int MAX_EMAIL_LENGTH = 254;

  /** What clients are told to wait before retrying while the database is unavailable. */
  static final Duration DATABASE_RETRY_DELAY = Duration.ofSeconds(1);

  /** Users fetched from the repository per batch while streaming. */
  static final int LIST_BATCH_SIZE = 100;

  // Deliberately simple: one @, no spaces, a dot in the domain. Real services verify by mail.
  private static final Pattern EMAIL = Pattern.compile("[^\\s@]+@[^\\s@]+\\.[^\\s@]+");

  // NUL and other control characters: PostgreSQL rejects NUL, and no name needs them.
  private static final Pattern CONTROL = Pattern.compile("\\p{Cntrl}");

  private final UserRepository repository;

  public UserServiceHandler(UserRepository repository) {
    this.repository = repository;
  }

  @Override
  public void getUser(GetUserRequest request, StreamObserver<User> response) {
    UUID id = parseId("id", request.getId());
    UserRecord user =
        fromRepository("failed to fetch user", () -> repository.find(id))
            .orElseThrow(() -> new NotFoundException("user", request.getId()));
    response.onNext(toProto(user));
    response.onCompleted();
  }

  @Override
  public void createUser(CreateUserRequest request, StreamObserver<User> response) {
    response.onNext(create(request));
    response.onCompleted();
  }

  @Override
  public void deleteUser(DeleteUserRequest request, StreamObserver<Empty> response) {
    UUID id = parseId("id", request.getId());
    if (!fromRepository("failed to delete user", () -> repository.delete(id))) {
      throw new NotFoundException("user", request.getId());
    }
    response.onNext(Empty.getDefaultInstance());
    response.onCompleted();
  }

  @Override
  public void listUsers(ListUsersRequest request, StreamObserver<User> response) {
    InvalidArgumentException.Builder errors = InvalidArgumentException.newBuilder();
    if (request.getPageSize() < 0) {
      errors.addViolation("page_size", "must be 0 (all) or more");
    }
    UUID after = null;
    if (!request.getPageToken().isEmpty()) {
      after = tryParseUuid(request.getPageToken());
      if (after == null) {
        errors.addViolation("page_token", "must be the id of the last user received");
      }
    }
    errors.throwIfAny();
    ServerCallStreamObserver<User> call = (ServerCallStreamObserver<User>) response;
    long limit = request.getPageSize() == 0 ? Long.MAX_VALUE : request.getPageSize();
    UserStreamer streamer = new UserStreamer(call, after, limit);
    call.setOnCancelHandler(streamer::cancel);
    call.setOnReadyHandler(streamer);
    // grpc calls the ready handler when the client has room; start now in case it already has.
    streamer.run();
  }

  @Override
  public StreamObserver<CreateUserRequest> importUsers(
      StreamObserver<ImportUsersResponse> response) {
    ServerCallStreamObserver<ImportUsersResponse> call =
        (ServerCallStreamObserver<ImportUsersResponse>) response;
    // Read one request at a time, and only while the response can be sent: grpc-java's
    // manual flow control pattern. Callbacks of one call never run concurrently.
    call.disableAutoRequest();
    ReadyGate gate = new ReadyGate(call);
    call.setOnReadyHandler(gate);
    call.setOnCancelHandler(() -> logger.debug("ImportUsers cancelled by the client"));
    return new StreamObserver<>() {
      @Override
      public void onNext(CreateUserRequest request) {
        call.onNext(importOne(request));
        gate.requestNextIfReady();
      }

      @Override
      public void onError(Throwable t) {
        // The client cancelled or failed; rows imported so far stay imported.
        logger.debug("ImportUsers ended by the client: {}", t.toString());
      }

      @Override
      public void onCompleted() {
        call.onCompleted();
      }
    };
  }

  private ImportUsersResponse importOne(CreateUserRequest request) {
    try {
      return ImportUsersResponse.newBuilder().setUser(create(request)).build();
    } catch (UnavailableException e) {
      // Not a bad row: the database is down. End the stream (rows so far stay imported) rather
      // than answer every remaining row after a connection timeout; the client resumes later.
      throw e;
    } catch (RuntimeException e) {
      if (!ErrorStatuses.isExpected(e)) {
        logger.error("ImportUsers row failed unexpectedly", e);
      } else if (e.getCause() != null) {
        logger.error("ImportUsers row failed: {}", e.getMessage(), e.getCause());
      }
      // One bad row answers with its own status; the stream goes on.
      return ImportUsersResponse.newBuilder().setError(ErrorStatuses.toRpcStatus(e)).build();
    }
  }

  private User create(CreateUserRequest request) {
    String name = request.getName().strip();
    String email = request.getEmail().strip();
    InvalidArgumentException.Builder errors = InvalidArgumentException.newBuilder();
    if (name.isEmpty()) {
      errors.addViolation("name", "must not be empty");
    } else if (name.length() > MAX_NAME_LENGTH) {
      errors.addViolation("name", "must be at most " + MAX_NAME_LENGTH + " characters");
    } else if (CONTROL.matcher(name).find()) {
      errors.addViolation("name", "must not contain control characters");
    }
    if (email.isEmpty()) {
      errors.addViolation("email", "must not be empty");
    } else if (email.length() > MAX_EMAIL_LENGTH
        || !EMAIL.matcher(email).matches()
        || CONTROL.matcher(email).find()) {
      errors.addViolation("email", "must be a valid email address");
    }
    errors.throwIfAny();
    try {
      return toProto(fromRepository("failed to create user", () -> repository.create(name, email)));
    } catch (EmailAlreadyUsedException e) {
      throw new AlreadyExistsException(
          "user", email, "a user with email " + email + " already exists");
    }
  }

  /**
   * Runs a repository operation, turning its failures into the service's errors: a database that
   * cannot be reached into UNAVAILABLE (the client may retry), anything else into INTERNAL with
   * {@code failure} as the message. The SQL and the driver's text go to the log, never to the
   * client.
   */
  private static <T> T fromRepository(String failure, Supplier<T> operation) {
    try {
      return operation.get();
    } catch (RepositoryUnavailableException e) {
      // The cause (SQLSTATE, driver text) is logged by Chassis's error mapping, with the trace id.
      throw new UnavailableException(
          "the user database is unavailable; retry later", DATABASE_RETRY_DELAY, e);
    } catch (RepositoryException e) {
      throw ServiceException.newBuilder(Status.Code.INTERNAL, failure).cause(e).build();
    }
  }

  private static UUID parseId(String field, String value) {
    UUID id = tryParseUuid(value);
    if (id == null) {
      throw InvalidArgumentException.forField(field, "must be a user id (a UUID)");
    }
    return id;
  }

  private static @Nullable UUID tryParseUuid(String value) {
    // UUID.fromString accepts shortened forms like "1-1-1-1-1"; accept only the canonical 36 chars.
    if (value.length() != 36) {
      return null;
    }
    try {
      return UUID.fromString(value);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  static User toProto(UserRecord user) {
    return User.newBuilder()
        .setId(user.id().toString())
        .setName(user.name())
        .setEmail(user.email())
        .setCreateTime(
            Timestamp.newBuilder()
                .setSeconds(user.createTime().getEpochSecond())
                .setNanos(user.createTime().getNano()))
        .build();
  }

  /**
   * Streams users batch by batch, only while the client can take more. Runs on grpc's serialized
   * callbacks for this call, so it needs no locking.
   */
  private final class UserStreamer implements Runnable {
    private final ServerCallStreamObserver<User> call;
    private final Deque<UserRecord> buffer = new ArrayDeque<>();
    private @Nullable UUID after;
    private long remaining;
    private boolean exhausted;
    private boolean done;

    UserStreamer(ServerCallStreamObserver<User> call, @Nullable UUID after, long limit) {
      this.call = call;
      this.after = after;
      this.remaining = limit;
    }

    @Override
    public void run() {
      while (!done && call.isReady()) {
        if (buffer.isEmpty() && !fill()) {
          done = true;
          call.onCompleted();
          return;
        }
        remaining--;
        call.onNext(toProto(buffer.poll()));
      }
    }

    private boolean fill() {
      if (remaining == 0 || exhausted) {
        return false;
      }
      int batch = (int) Math.min(LIST_BATCH_SIZE, remaining);
      UUID from = after;
      List<UserRecord> page =
          fromRepository("failed to fetch users", () -> repository.list(from, batch));
      exhausted = page.size() < batch;
      if (page.isEmpty()) {
        return false;
      }
      buffer.addAll(page);
      after = page.get(page.size() - 1).id();
      return true;
    }

    void cancel() {
      done = true;
      buffer.clear();
    }
  }

  /** Requests the next message when the call turns ready, once per ready transition. */
  private static final class ReadyGate implements Runnable {
    private final ServerCallStreamObserver<?> call;
    private boolean waitingForReady = true;

    ReadyGate(ServerCallStreamObserver<?> call) {
      this.call = call;
    }

    @Override
    public void run() {
      if (waitingForReady && call.isReady()) {
        waitingForReady = false;
        call.request(1);
      }
    }

    void requestNextIfReady() {
      if (call.isReady()) {
        call.request(1);
      } else {
        waitingForReady = true;
      }
    }
  }
}
