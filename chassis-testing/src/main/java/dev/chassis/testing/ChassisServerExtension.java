package dev.chassis.testing;

import dev.chassis.ChassisConfig;
import dev.chassis.server.ChassisServer;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs a Chassis server on grpc's in-process transport for a test, with the same interceptor chain
 * (logging context, error mapping, ...) and health service as production, and hands the test a
 * channel to it.
 *
 * <p>In a {@code static} field the server starts once before all tests of the class; in an instance
 * field it starts fresh before each test. Each start calls {@code configure} again, so handlers and
 * repositories created there are fresh too. Cleanup is bounded: calls still running after {@link
 * Builder#cleanupTimeout} (default 5 s) are cancelled.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final ChassisServerExtension server =
 *     ChassisServerExtension.forServer(
 *         builder -> builder.addService(new UserServiceHandler(new InMemoryUserRepository())));
 *
 * @Test
 * void getUser_unknownId_returnsNotFound() {
 *   UserServiceGrpc.UserServiceBlockingStub users = UserServiceGrpc.newBlockingStub(server.channel());
 *   assertThatGrpc(() -> users.getUser(request)).failsWith(Status.Code.NOT_FOUND);
 * }
 * }</pre>
 */
public final class ChassisServerExtension
    implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {
  private static final String TEST_DEFAULTS =
      """
      chassis {
        service.name = test-service
        admin.port = -1
        shutdown { drain-delay = 0s, handle-signals = false }
      }
      """;

  private final Consumer<ChassisServer.Builder> configure;
  private final String config;
  private final Duration cleanupTimeout;
  private @Nullable ChassisServer server;
  private @Nullable ManagedChannel channel;
  private boolean perTest;

  private ChassisServerExtension(Builder builder) {
    this.configure = builder.configure;
    this.config = builder.config;
    this.cleanupTimeout = builder.cleanupTimeout;
  }

  /** An extension whose server {@code configure} sets up (services, checks, interceptors). */
  public static ChassisServerExtension forServer(Consumer<ChassisServer.Builder> configure) {
    return newBuilder(configure).build();
  }

  /** An extension serving fresh instances of the given services on each start. */
  public static ChassisServerExtension forServices(
      java.util.function.Supplier<? extends BindableService> service) {
    return forServer(builder -> builder.addService(service.get()));
  }

  /** Starts building an extension whose server {@code configure} sets up. */
  public static Builder newBuilder(Consumer<ChassisServer.Builder> configure) {
    return new Builder(configure);
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    start();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    stop();
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    if (server == null) {
      perTest = true;
      start();
    }
  }

  @Override
  public void afterEach(ExtensionContext context) {
    if (perTest) {
      stop();
    }
  }

  /** A channel to the running server; owned by the extension, closed at cleanup. */
  public ManagedChannel channel() {
    ManagedChannel current = channel;
    if (current == null) {
      throw new IllegalStateException(
          "the server is not running (register with @RegisterExtension)");
    }
    return current;
  }

  /** The running server (for its config, meter registry or health). */
  public ChassisServer server() {
    ChassisServer current = server;
    if (current == null) {
      throw new IllegalStateException(
          "the server is not running (register with @RegisterExtension)");
    }
    return current;
  }

  /** Whether a server is running now. */
  public boolean isRunning() {
    return server != null;
  }

  private void start() {
    String name = "chassis-test-" + UUID.randomUUID();
    ChassisConfig chassisConfig =
        ChassisConfig.of(TEST_DEFAULTS)
            .with("chassis.shutdown.grace = " + cleanupTimeout.toMillis() + "ms")
            .with(config);
    ChassisServer.Builder builder = ChassisServer.newBuilder(chassisConfig).inProcess(name);
    configure.accept(builder);
    try {
      server = builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException("in-process server did not start", e);
    }
    channel = InProcessChannelBuilder.forName(name).build();
  }

  private void stop() {
    ManagedChannel currentChannel = channel;
    ChassisServer currentServer = server;
    channel = null;
    server = null;
    try {
      if (currentChannel != null) {
        currentChannel
            .shutdownNow()
            .awaitTermination(cleanupTimeout.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      if (currentServer != null) {
        currentServer.close();
      }
    }
  }

  /** Builds a {@link ChassisServerExtension}. */
  public static final class Builder {
    private final Consumer<ChassisServer.Builder> configure;
    private String config = "";
    private Duration cleanupTimeout = Duration.ofSeconds(5);

    private Builder(Consumer<ChassisServer.Builder> configure) {
      this.configure = configure;
    }

    /**
     * HOCON layered over Chassis's defaults and the test defaults (service name {@code
     * test-service}, no admin port, no drain delay), for example {@code "chassis.service.name =
     * user-service"}.
     */
    public Builder config(String hocon) {
      this.config = hocon;
      return this;
    }

    /** How long cleanup waits for calls before cancelling them; default 5 s. */
    public Builder cleanupTimeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("cleanupTimeout: " + timeout + " (expected: > 0)");
      }
      this.cleanupTimeout = timeout;
      return this;
    }

    /** Builds the extension. */
    public ChassisServerExtension build() {
      return new ChassisServerExtension(this);
    }
  }
}
