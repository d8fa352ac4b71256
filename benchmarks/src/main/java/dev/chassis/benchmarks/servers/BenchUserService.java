package dev.chassis.benchmarks.servers;

import com.google.protobuf.Empty;
import dev.chassis.sample.user.v1.CreateUserRequest;
import dev.chassis.sample.user.v1.DeleteUserRequest;
import dev.chassis.sample.user.v1.GetUserRequest;
import dev.chassis.sample.user.v1.ImportUsersResponse;
import dev.chassis.sample.user.v1.ListUsersRequest;
import dev.chassis.sample.user.v1.User;
import dev.chassis.sample.user.v1.UserServiceGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.function.Supplier;

/**
 * The sample's {@code user.v1.UserService} in memory, for load tests: same methods, same
 * validation, same status codes (INVALID_ARGUMENT for a malformed id, name, email, page size or
 * token; NOT_FOUND for an unknown id; ALREADY_EXISTS for a taken email), without Chassis' exception
 * types, so it runs unchanged on bare grpc-java. Seeded users have the ids {@link #seedId}, so a
 * client can ask for them without listing first. Every call it answers is counted by status code in
 * {@link #outcomes()} (streams once, when they end). Thread-safe.
 */
public final class BenchUserService extends UserServiceGrpc.UserServiceImplBase {
  private final UserStore store;
  private final Outcomes outcomes;

  BenchUserService(UserStore store) {
    this(store, new Outcomes());
  }

  BenchUserService(UserStore store, Outcomes outcomes) {
    this.store = store;
    this.outcomes = outcomes;
  }

  /** A service holding {@code users} seeded users. */
  public static BenchUserService withSeededUsers(int users) {
    UserStore store = new UserStore();
    store.seed(users);
    return new BenchUserService(store);
  }

  /** The id of seeded user {@code index} (0-based); the same in every run and server kind. */
  public static String seedId(int index) {
    return UserStore.seedId(index);
  }

  UserStore store() {
    return store;
  }

  /** The calls answered so far, by status code. */
  public Outcomes outcomes() {
    return outcomes;
  }

  @Override
  public void getUser(GetUserRequest request, StreamObserver<User> response) {
    answer(response, () -> store.get(request.getId()));
  }

  @Override
  public void createUser(CreateUserRequest request, StreamObserver<User> response) {
    answer(response, () -> store.create(request.getName(), request.getEmail()));
  }

  @Override
  public void deleteUser(DeleteUserRequest request, StreamObserver<Empty> response) {
    answer(
        response,
        () -> {
          store.delete(request.getId());
          return Empty.getDefaultInstance();
        });
  }

  /** A unary answer: the value, or the store's status, counted either way. */
  private <T> void answer(StreamObserver<T> response, Supplier<T> call) {
    T value;
    try {
      value = call.get();
    } catch (StatusRuntimeException e) {
      fail(response, e);
      return;
    }
    response.onNext(value);
    complete(response);
  }

  @Override
  public void listUsers(ListUsersRequest request, StreamObserver<User> response) {
    List<User> page;
    try {
      page = store.list(request.getPageSize(), request.getPageToken());
    } catch (StatusRuntimeException e) {
      fail(response, e);
      return;
    }
    // Like the sample: send only while the client can take more.
    ServerCallStreamObserver<User> call = (ServerCallStreamObserver<User>) response;
    Deque<User> remaining = new ArrayDeque<>(page);
    Runnable drain =
        new Runnable() {
          private boolean done;

          @Override
          public void run() {
            while (!done && call.isReady()) {
              User next = remaining.poll();
              if (next == null) {
                done = true;
                complete(call);
                return;
              }
              call.onNext(next);
            }
          }
        };
    call.setOnCancelHandler(
        () -> {
          remaining.clear();
          outcomes.record(Status.Code.CANCELLED);
        });
    call.setOnReadyHandler(drain);
    drain.run();
  }

  @Override
  public StreamObserver<CreateUserRequest> importUsers(
      StreamObserver<ImportUsersResponse> response) {
    return new StreamObserver<>() {
      @Override
      public void onNext(CreateUserRequest request) {
        ImportUsersResponse.Builder row = ImportUsersResponse.newBuilder();
        try {
          row.setUser(store.create(request.getName(), request.getEmail()));
        } catch (StatusRuntimeException e) {
          // One bad row answers with its own status; the stream goes on.
          Status status = e.getStatus();
          row.setError(
              com.google.rpc.Status.newBuilder()
                  .setCode(status.getCode().value())
                  .setMessage(status.getDescription() == null ? "" : status.getDescription()));
        }
        response.onNext(row.build());
      }

      @Override
      public void onError(Throwable t) {
        // The client cancelled or broke the stream; nothing can be sent any more.
        outcomes.record(Status.Code.CANCELLED);
      }

      @Override
      public void onCompleted() {
        complete(response);
      }
    };
  }

  private <T> void complete(StreamObserver<T> response) {
    outcomes.record(Status.Code.OK);
    response.onCompleted();
  }

  private <T> void fail(StreamObserver<T> response, StatusRuntimeException e) {
    outcomes.record(e.getStatus().getCode());
    response.onError(e);
  }
}
