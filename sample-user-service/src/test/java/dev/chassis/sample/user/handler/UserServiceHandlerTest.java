package dev.chassis.sample.user.handler;

import static dev.chassis.testing.GrpcAssertions.assertThatGrpc;
import static dev.chassis.testing.GrpcAssertions.assertThatRpcStatus;
import static org.assertj.core.api.Assertions.assertThat;

import dev.chassis.sample.user.repository.InMemoryUserRepository;
import dev.chassis.sample.user.v1.CreateUserRequest;
import dev.chassis.sample.user.v1.DeleteUserRequest;
import dev.chassis.sample.user.v1.GetUserRequest;
import dev.chassis.sample.user.v1.ImportUsersResponse;
import dev.chassis.sample.user.v1.ListUsersRequest;
import dev.chassis.sample.user.v1.User;
import dev.chassis.sample.user.v1.UserServiceGrpc;
import dev.chassis.testing.ChassisServerExtension;
import dev.chassis.testing.RecordingStreamObserver;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class UserServiceHandlerTest {
  @RegisterExtension
  final ChassisServerExtension server =
      ChassisServerExtension.newBuilder(
              builder -> builder.addService(new UserServiceHandler(new InMemoryUserRepository())))
          .config("chassis.service.name = user-service")
          .build();

  @Test
  void createUser_thenGetUser_returnsTheUser() {
    User created = users().createUser(create("Ada Lovelace", " ada@example.com "));

    User fetched = users().getUser(GetUserRequest.newBuilder().setId(created.getId()).build());

    assertThat(created.getId()).hasSize(36);
    assertThat(created.getEmail()).isEqualTo("ada@example.com");
    assertThat(created.hasCreateTime()).isTrue();
    assertThat(fetched).isEqualTo(created);
  }

  @Test
  void getUser_unknownId_returnsNotFound() {
    assertThatGrpc(
            () ->
                users()
                    .getUser(
                        GetUserRequest.newBuilder()
                            .setId("00000000-0000-0000-0000-000000000000")
                            .build()))
        .failsWith(Status.Code.NOT_FOUND)
        .hasMessage("user 00000000-0000-0000-0000-000000000000 not found")
        .hasResourceInfo("user", "00000000-0000-0000-0000-000000000000");
  }

  @Test
  void getUser_malformedId_returnsInvalidArgumentOnId() {
    assertThatGrpc(() -> users().getUser(GetUserRequest.newBuilder().setId("1-1-1-1-1").build()))
        .failsWith(Status.Code.INVALID_ARGUMENT)
        .hasBadRequestViolation("id", "UUID");
  }

  @Test
  void createUser_blankNameAndBadEmail_returnsBothViolations() {
    assertThatGrpc(() -> users().createUser(create("  ", "not-an-email")))
        .failsWith(Status.Code.INVALID_ARGUMENT)
        .hasBadRequestViolation("name", "must not be empty")
        .hasBadRequestViolation("email", "valid email");
  }

  @Test
  void createUser_tooLongName_returnsInvalidArgument() {
    assertThatGrpc(() -> users().createUser(create("x".repeat(201), "x@example.com")))
        .failsWith(Status.Code.INVALID_ARGUMENT)
        .hasBadRequestViolation("name", "at most 200");
  }

  @Test
  void createUser_sameEmailOtherCase_returnsAlreadyExists() {
    users().createUser(create("Ada", "Ada@Example.com"));

    assertThatGrpc(() -> users().createUser(create("Ada Again", "ada@example.COM")))
        .failsWith(Status.Code.ALREADY_EXISTS)
        .hasMessageContaining("already exists")
        .hasResourceInfo("user", "ada@example.COM");
  }

  @Test
  void deleteUser_removesTheUserAndFreesTheEmail() {
    User ada = users().createUser(create("Ada", "ada@example.com"));

    users().deleteUser(DeleteUserRequest.newBuilder().setId(ada.getId()).build());

    assertThatGrpc(() -> users().getUser(GetUserRequest.newBuilder().setId(ada.getId()).build()))
        .failsWith(Status.Code.NOT_FOUND);
    assertThatGrpc(
            () -> users().deleteUser(DeleteUserRequest.newBuilder().setId(ada.getId()).build()))
        .failsWith(Status.Code.NOT_FOUND);
    assertThatGrpc(() -> users().createUser(create("Ada", "ADA@example.com"))).succeeds();
  }

  @Test
  void listUsers_pagesByLastIdWithoutGapsOrRepeats() {
    for (int i = 0; i < 25; i++) {
      users().createUser(create("User " + i, "user" + i + "@example.com"));
    }

    List<User> all = new ArrayList<>();
    String token = "";
    for (int page = 0; page < 10; page++) {
      List<User> users = list(10, token);
      if (users.isEmpty()) {
        break;
      }
      all.addAll(users);
      token = users.get(users.size() - 1).getId();
    }

    assertThat(all).hasSize(25);
    assertThat(all).extracting(User::getId).doesNotHaveDuplicates().isSorted();
    assertThat(list(0, "")).hasSize(25);
  }

  @Test
  void listUsers_badPageSizeAndToken_returnInvalidArgument() {
    assertThatGrpc(() -> list(-1, "nope"))
        .failsWith(Status.Code.INVALID_ARGUMENT)
        .hasBadRequestViolation("page_size")
        .hasBadRequestViolation("page_token");
  }

  @Test
  void importUsers_answersEachRowInOrder_badRowsDoNotEndTheStream() throws Exception {
    users().createUser(create("Taken", "taken@example.com"));
    List<CreateUserRequest> rows =
        List.of(
            create("Grace", "grace@example.com"),
            create("", "bad"),
            create("Taken Again", "TAKEN@example.com"),
            create("Linus", "linus@example.com"));

    List<ImportUsersResponse> responses = importUsers(rows);

    assertThat(responses).hasSize(4);
    assertThat(responses.get(0).getUser().getName()).isEqualTo("Grace");
    assertThatRpcStatus(responses.get(1).getError())
        .hasCode(Status.Code.INVALID_ARGUMENT)
        .hasBadRequestViolation("name")
        .hasBadRequestViolation("email");
    assertThatRpcStatus(responses.get(2).getError()).hasCode(Status.Code.ALREADY_EXISTS);
    assertThat(responses.get(3).getUser().getName()).isEqualTo("Linus");
  }

  private List<User> list(int pageSize, String token) {
    List<User> users = new ArrayList<>();
    users()
        .listUsers(ListUsersRequest.newBuilder().setPageSize(pageSize).setPageToken(token).build())
        .forEachRemaining(users::add);
    return users;
  }

  private List<ImportUsersResponse> importUsers(List<CreateUserRequest> rows) throws Exception {
    RecordingStreamObserver<ImportUsersResponse> responses = RecordingStreamObserver.create();
    StreamObserver<CreateUserRequest> requests =
        UserServiceGrpc.newStub(server.channel())
            .withDeadlineAfter(10, TimeUnit.SECONDS)
            .importUsers(responses);
    rows.forEach(requests::onNext);
    requests.onCompleted();
    assertThat(responses.awaitCompletion(Duration.ofSeconds(10)).isOk()).isTrue();
    return responses.values();
  }

  private UserServiceGrpc.UserServiceBlockingStub users() {
    return UserServiceGrpc.newBlockingStub(server.channel())
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private static CreateUserRequest create(String name, String email) {
    return CreateUserRequest.newBuilder().setName(name).setEmail(email).build();
  }
}
