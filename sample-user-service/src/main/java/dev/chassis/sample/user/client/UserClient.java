package dev.chassis.sample.user.client;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import com.google.rpc.BadRequest;
import dev.chassis.Chassis;
import dev.chassis.ChassisConfig;
import dev.chassis.sample.user.v1.CreateUserRequest;
import dev.chassis.sample.user.v1.DeleteUserRequest;
import dev.chassis.sample.user.v1.GetUserRequest;
import dev.chassis.sample.user.v1.ImportUsersResponse;
import dev.chassis.sample.user.v1.ListUsersRequest;
import dev.chassis.sample.user.v1.User;
import dev.chassis.sample.user.v1.UserServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A command-line client of the user service. It reaches the service through {@link
 * Chassis#channel}: target, load balancing, deadlines and retries come from {@code
 * chassis.clients.user-service} in {@code application.conf}.
 *
 * <pre>
 * java -cp sample-user-service.jar dev.chassis.sample.user.client.UserClient [--target T] COMMAND
 *   create NAME EMAIL | get ID | list [PAGE_SIZE [PAGE_TOKEN]] | delete ID | import | demo
 * </pre>
 *
 * <p>Results print as JSON; a failed call prints its status, message and details and exits 1.
 * {@code import} streams {@code name,email} lines from standard input through the bidirectional
 * {@code ImportUsers}, sending only as fast as the service takes them, and prints one line per row
 * (the user, or {@code row N: CODE: message}); it exits 1 when any row failed.
 */
public final class UserClient {
  private static final String USAGE =
      "usage: UserClient [--target static:///127.0.0.1:50051] "
          + "create NAME EMAIL | get ID | list [PAGE_SIZE [PAGE_TOKEN]] | delete ID | import"
          + " (name,email lines on stdin) | demo";

  private final UserServiceGrpc.UserServiceBlockingStub users;
  private final UserServiceGrpc.UserServiceStub asyncUsers;
  private final PrintStream out;

  private UserClient(ManagedChannel channel, PrintStream out) {
    this.users = UserServiceGrpc.newBlockingStub(channel);
    this.asyncUsers = UserServiceGrpc.newStub(channel);
    this.out = out;
  }

  public static void main(String[] args) throws Exception {
    List<String> rest = new ArrayList<>(List.of(args));
    ChassisConfig config = ChassisConfig.load();
    if (rest.size() >= 2 && rest.get(0).equals("--target")) {
      config = config.with("chassis.clients.user-service.target = \"" + rest.get(1) + "\"");
      rest = rest.subList(2, rest.size());
    }
    if (rest.isEmpty()) {
      System.err.println(USAGE);
      System.exit(2);
    }
    System.exit(run(config, rest, System.out));
  }

  /** Runs one command; returns the process exit status (0 ok, 1 call failed, 2 usage). */
  public static int run(ChassisConfig config, List<String> command, PrintStream out)
      throws InterruptedException {
    return run(config, command, System.in, out);
  }

  /** Runs one command with {@code in} as the input of {@code import}. */
  public static int run(ChassisConfig config, List<String> command, InputStream in, PrintStream out)
      throws InterruptedException {
    ManagedChannel channel = Chassis.channel(config, "user-service").build();
    try {
      UserClient client = new UserClient(channel, out);
      String name = command.get(0);
      List<String> args = command.subList(1, command.size());
      switch (name) {
        case "create" -> {
          requireArgs(args, 2);
          client.print(client.users.createUser(create(args.get(0), args.get(1))));
        }
        case "get" -> {
          requireArgs(args, 1);
          client.print(
              client.users.getUser(GetUserRequest.newBuilder().setId(args.get(0)).build()));
        }
        case "list" -> {
          ListUsersRequest.Builder request = ListUsersRequest.newBuilder();
          if (!args.isEmpty()) {
            request.setPageSize(Integer.parseInt(args.get(0)));
          }
          if (args.size() > 1) {
            request.setPageToken(args.get(1));
          }
          client.users.listUsers(request.build()).forEachRemaining(client::print);
        }
        case "delete" -> {
          requireArgs(args, 1);
          client.users.deleteUser(DeleteUserRequest.newBuilder().setId(args.get(0)).build());
          out.println("{}");
        }
        case "import" -> {
          requireArgs(args, 0);
          return client.importUsers(
              new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)));
        }
        case "demo" -> client.runDemo();
        default -> throw new IllegalArgumentException(USAGE);
      }
      return 0;
    } catch (StatusRuntimeException e) {
      out.println(describe(e));
      return 1;
    } catch (IllegalArgumentException e) {
      out.println(e.getMessage());
      return 2;
    } finally {
      channel.shutdown().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** Shows the service answering: create, get, list, and the three error cases. */
  public static void demo(ChassisConfig config, PrintStream out) throws InterruptedException {
    run(config, List.of("demo"), out);
  }

  private void runDemo() {
    out.println("demo> CreateUser Ada Lovelace <ada@example.com>");
    User ada = users.createUser(create("Ada Lovelace", "ada@example.com"));
    print(ada);
    out.println("demo> GetUser " + ada.getId());
    print(users.getUser(GetUserRequest.newBuilder().setId(ada.getId()).build()));
    out.println("demo> ListUsers");
    Iterator<User> listed = users.listUsers(ListUsersRequest.getDefaultInstance());
    listed.forEachRemaining(this::print);
    out.println("demo> GetUser 00000000-0000-0000-0000-000000000000");
    expectFailure(
        () ->
            users.getUser(
                GetUserRequest.newBuilder().setId("00000000-0000-0000-0000-000000000000").build()));
    out.println("demo> CreateUser \"\" <not-an-email>");
    expectFailure(() -> users.createUser(create("", "not-an-email")));
    out.println("demo> CreateUser Ada Again <ADA@example.com>");
    expectFailure(() -> users.createUser(create("Ada Again", "ADA@example.com")));
  }

  /** Streams rows from {@code in}; returns 0 when every row was imported, else 1. */
  private int importUsers(BufferedReader in) throws InterruptedException {
    CompletableFuture<Status> done = new CompletableFuture<>();
    AtomicInteger rows = new AtomicInteger();
    AtomicInteger failedRows = new AtomicInteger();
    asyncUsers.importUsers(
        new ClientResponseObserver<CreateUserRequest, ImportUsersResponse>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<CreateUserRequest> requests) {
            // Send only while the call is ready: the service's pace, not the file's, sets ours.
            requests.setOnReadyHandler(new LineSender(in, requests));
          }

          @Override
          public void onNext(ImportUsersResponse response) {
            int row = rows.incrementAndGet();
            if (response.hasError()) {
              failedRows.incrementAndGet();
              out.println(
                  "row "
                      + row
                      + ": "
                      + Status.Code.values()[response.getError().getCode()]
                      + ": "
                      + response.getError().getMessage());
            } else {
              print(response.getUser());
            }
          }

          @Override
          public void onError(Throwable t) {
            done.complete(Status.fromThrowable(t));
          }

          @Override
          public void onCompleted() {
            done.complete(Status.OK);
          }
        });
    Status status;
    try {
      status = done.get();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e);
    }
    if (!status.isOk()) {
      throw status.asRuntimeException();
    }
    return failedRows.get() == 0 ? 0 : 1;
  }

  /** Sends {@code name,email} lines while the call is ready; ends the stream at end of input. */
  private static final class LineSender implements Runnable {
    private final BufferedReader in;
    private final ClientCallStreamObserver<CreateUserRequest> requests;
    private boolean finished;

    LineSender(BufferedReader in, ClientCallStreamObserver<CreateUserRequest> requests) {
      this.in = in;
      this.requests = requests;
    }

    @Override
    public void run() {
      try {
        while (!finished && requests.isReady()) {
          String line = in.readLine();
          if (line == null) {
            finished = true;
            requests.onCompleted();
          } else if (!line.isBlank()) {
            int comma = line.lastIndexOf(',');
            requests.onNext(
                comma < 0
                    ? create(line.strip(), "")
                    : create(line.substring(0, comma).strip(), line.substring(comma + 1).strip()));
          }
        }
      } catch (IOException e) {
        finished = true;
        requests.onError(
            Status.CANCELLED.withDescription("cannot read the input").withCause(e).asException());
      }
    }
  }

  private void expectFailure(Runnable call) {
    try {
      call.run();
      out.println("unexpected success");
    } catch (StatusRuntimeException e) {
      out.println(describe(e));
    }
  }

  private static CreateUserRequest create(String name, String email) {
    return CreateUserRequest.newBuilder().setName(name).setEmail(email).build();
  }

  private static void requireArgs(List<String> args, int count) {
    if (args.size() != count) {
      throw new IllegalArgumentException(USAGE);
    }
  }

  private void print(MessageOrBuilder message) {
    try {
      out.println(JsonFormat.printer().omittingInsignificantWhitespace().print(message));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  /** {@code NOT_FOUND: user 0000... not found} plus field violations when there are any. */
  static String describe(StatusRuntimeException e) {
    StringBuilder text =
        new StringBuilder(e.getStatus().getCode().name())
            .append(": ")
            .append(e.getStatus().getDescription());
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    if (status != null) {
      for (com.google.protobuf.Any detail : status.getDetailsList()) {
        if (detail.is(BadRequest.class)) {
          try {
            for (BadRequest.FieldViolation violation :
                detail.unpack(BadRequest.class).getFieldViolationsList()) {
              text.append("\n  ")
                  .append(violation.getField())
                  .append(": ")
                  .append(violation.getDescription());
            }
          } catch (InvalidProtocolBufferException ex) {
            text.append("\n  (unreadable BadRequest detail)");
          }
        }
      }
    }
    return text.toString();
  }
}
