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
import dev.chassis.sample.user.v1.ListUsersRequest;
import dev.chassis.sample.user.v1.User;
import dev.chassis.sample.user.v1.UserServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A command-line client of the user service. It reaches the service through {@link
 * Chassis#channel}: target, load balancing, deadlines and retries come from {@code
 * chassis.clients.user-service} in {@code application.conf}.
 *
 * <pre>
 * java -cp sample-user-service.jar dev.chassis.sample.user.client.UserClient [--target T] COMMAND
 *   create NAME EMAIL | get ID | list [PAGE_SIZE [PAGE_TOKEN]] | delete ID | demo
 * </pre>
 *
 * <p>Results print as JSON; a failed call prints its status, message and details and exits 1.
 */
public final class UserClient {
  private static final String USAGE =
      "usage: UserClient [--target static:///127.0.0.1:50051] "
          + "create NAME EMAIL | get ID | list [PAGE_SIZE [PAGE_TOKEN]] | delete ID | demo";

  private final UserServiceGrpc.UserServiceBlockingStub users;
  private final PrintStream out;

  private UserClient(ManagedChannel channel, PrintStream out) {
    this.users = UserServiceGrpc.newBlockingStub(channel);
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
