package dev.chassis.sample.user.handler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.chassis.sample.user.repository.InMemoryUserRepository;
import dev.chassis.sample.user.repository.UserRecord;
import dev.chassis.sample.user.repository.UserRepository;
import dev.chassis.sample.user.v1.CreateUserRequest;
import dev.chassis.sample.user.v1.ImportUsersResponse;
import dev.chassis.sample.user.v1.ListUsersRequest;
import dev.chassis.sample.user.v1.User;
import dev.chassis.sample.user.v1.UserServiceGrpc;
import dev.chassis.testing.ChassisServerExtension;
import dev.chassis.testing.RecordingStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The streaming methods only do work the client can take. In-process transport: isReady() there is
 * exactly "the client has requested another message", so the bounds below are exact.
 */
class StreamingFlowControlTest {
  private final CountingRepository repository = new CountingRepository();

  @RegisterExtension
  final ChassisServerExtension server =
      ChassisServerExtension.forServer(
          builder -> builder.addService(new UserServiceHandler(repository)));

  @Test
  void listUsers_slowClient_serverFetchesOnlyWhatItCanSend() throws Exception {
    for (int i = 0; i < 1000; i++) {
      repository.create("User " + i, "user" + i + "@example.com");
    }
    RecordingStreamObserver<User> client = RecordingStreamObserver.withManualFlowControl(1);
    UserServiceGrpc.newStub(server.channel())
        .withDeadlineAfter(30, TimeUnit.SECONDS)
        .listUsers(ListUsersRequest.getDefaultInstance(), client);

    await().atMost(Duration.ofSeconds(5)).until(() -> client.values().size() == 1);
    assertThat(repository.listed.get()).isLessThanOrEqualTo(UserServiceHandler.LIST_BATCH_SIZE);

    client.request(Integer.MAX_VALUE);

    assertThat(client.awaitCompletion(Duration.ofSeconds(10)).isOk()).isTrue();
    assertThat(client.values()).hasSize(1000);
    assertThat(repository.listed.get()).isEqualTo(1000);
  }

  @Test
  void importUsers_clientNotReading_serverStopsReadingRequests() throws Exception {
    RecordingStreamObserver<ImportUsersResponse> client =
        RecordingStreamObserver.withManualFlowControl(0);
    StreamObserver<CreateUserRequest> requests =
        UserServiceGrpc.newStub(server.channel())
            .withDeadlineAfter(30, TimeUnit.SECONDS)
            .importUsers(client);
    for (int i = 0; i < 500; i++) {
      requests.onNext(
          CreateUserRequest.newBuilder()
              .setName("U" + i)
              .setEmail("u" + i + "@example.com")
              .build());
    }
    requests.onCompleted();

    client.request(10);
    await().atMost(Duration.ofSeconds(5)).until(() -> client.values().size() == 10);

    assertThat(repository.created.get()).isBetween(10, 11);

    client.request(Integer.MAX_VALUE);

    assertThat(client.awaitCompletion(Duration.ofSeconds(10)).isOk()).isTrue();
    assertThat(client.values()).hasSize(500);
    assertThat(client.values())
        .extracting(r -> r.getUser().getName())
        .startsWith("U0", "U1", "U2")
        .endsWith("U499");
    assertThat(repository.created.get()).isEqualTo(500);
  }

  /** Counts what the handler asks of the repository. */
  static final class CountingRepository implements UserRepository {
    final InMemoryUserRepository delegate = new InMemoryUserRepository();
    final AtomicInteger listed = new AtomicInteger();
    final AtomicInteger created = new AtomicInteger();

    @Override
    public UserRecord create(String name, String email) {
      UserRecord user = delegate.create(name, email);
      created.incrementAndGet();
      return user;
    }

    @Override
    public Optional<UserRecord> find(UUID id) {
      return delegate.find(id);
    }

    @Override
    public List<UserRecord> list(@Nullable UUID after, int limit) {
      List<UserRecord> page = delegate.list(after, limit);
      listed.addAndGet(page.size());
      return page;
    }

    @Override
    public boolean delete(UUID id) {
      return delegate.delete(id);
    }

    @Override
    public boolean ping() {
      return true;
    }
  }
}
