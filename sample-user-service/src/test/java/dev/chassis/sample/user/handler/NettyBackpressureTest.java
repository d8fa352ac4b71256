package dev.chassis.sample.user.handler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.chassis.ChassisConfig;
import dev.chassis.sample.user.repository.InMemoryUserRepository;
import dev.chassis.sample.user.v1.CreateUserRequest;
import dev.chassis.sample.user.v1.ImportUsersResponse;
import dev.chassis.sample.user.v1.UserServiceGrpc;
import dev.chassis.server.ChassisServer;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Backpressure end to end over real HTTP/2 (Netty on loopback): a client that stops reading
 * ImportUsers answers soon cannot send any more rows, because the server reads a row only once it
 * can answer it and HTTP/2 flow control then stops the client. What is in flight is bounded by the
 * flow-control windows (grpc's BDP tuning may grow the server's up to 8 MiB), not by the number of
 * rows.
 */
class NettyBackpressureTest {
  private static final Logger logger = LoggerFactory.getLogger(NettyBackpressureTest.class);

  /** About 27 MB of rows: far more than every window together. */
  private static final int ROWS = 100_000;

  private static final String PADDING = "x".repeat(180);
  private ChassisServer server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    server =
        ChassisServer.newBuilder(
                ChassisConfig.of(
                    """
                    chassis {
                      service.name = user-service
                      grpc { host = 127.0.0.1, port = 0 }
                      admin.port = -1
                      shutdown { drain-delay = 0s, handle-signals = false }
                    }
                    """))
            .addService(new UserServiceHandler(new InMemoryUserRepository()))
            .start();
    channel =
        NettyChannelBuilder.forAddress("127.0.0.1", server.port())
            .usePlaintext()
            .flowControlWindow(1 << 20) // a fixed 1 MiB receive window (no BDP growth)
            .build();
  }

  @AfterEach
  void stop() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.close();
  }

  @Test
  void importUsers_clientThatStopsReading_soonCannotSend_thenEverythingArrivesInOrder()
      throws Exception {
    AtomicInteger sent = new AtomicInteger();
    AtomicBoolean completed = new AtomicBoolean();
    List<ImportUsersResponse> responses = Collections.synchronizedList(new ArrayList<>());
    AtomicReference<ClientCallStreamObserver<CreateUserRequest>> call = new AtomicReference<>();
    CompletableFuture<Status> done = new CompletableFuture<>();
    UserServiceGrpc.newStub(channel)
        .withDeadlineAfter(120, TimeUnit.SECONDS)
        .importUsers(
            new ClientResponseObserver<CreateUserRequest, ImportUsersResponse>() {
              @Override
              public void beforeStart(ClientCallStreamObserver<CreateUserRequest> requests) {
                call.set(requests);
                requests.disableAutoRequestWithInitial(0); // read no answers for now
                requests.setOnReadyHandler(
                    () -> {
                      while (requests.isReady() && sent.get() < ROWS) {
                        int i = sent.getAndIncrement();
                        requests.onNext(
                            CreateUserRequest.newBuilder()
                                .setName("Row " + i + " " + PADDING)
                                .setEmail("row" + i + "@example.com")
                                .build());
                      }
                      if (sent.get() == ROWS && completed.compareAndSet(false, true)) {
                        requests.onCompleted();
                      }
                    });
              }

              @Override
              public void onNext(ImportUsersResponse response) {
                responses.add(response);
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

    // The client sends until flow control stops it for good (the same count over a second and
    // a half), long before all rows are out.
    AtomicInteger lastSeen = new AtomicInteger(-1);
    AtomicInteger unchanged = new AtomicInteger();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> {
              int now = sent.get();
              boolean same = now > 0 && !call.get().isReady() && lastSeen.getAndSet(now) == now;
              return same ? unchanged.incrementAndGet() >= 3 : unchanged.getAndSet(0) < 0;
            });
    int stalledAt = sent.get();
    logger.info(
        "client not reading: sending stopped after {} of {} rows ({} KB)",
        stalledAt,
        ROWS,
        stalledAt * 270L / 1024);
    assertThat(stalledAt).isLessThan(ROWS / 2);

    call.get().request(Integer.MAX_VALUE);

    assertThat(done.get(120, TimeUnit.SECONDS).isOk()).isTrue();
    assertThat(responses).hasSize(ROWS);
    for (int i = 0; i < ROWS; i += 997) {
      assertThat(responses.get(i).getUser().getEmail()).isEqualTo("row" + i + "@example.com");
    }
    assertThat(responses.get(ROWS - 1).getUser().getName())
        .isEqualTo("Row " + (ROWS - 1) + " " + PADDING);
  }
}
