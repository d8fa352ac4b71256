package dev.chassis.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.chassis.test.v1.TestRequest;
import dev.chassis.test.v1.TestResponse;
import dev.chassis.test.v1.TestServiceGrpc;
import dev.chassis.testsupport.StreamRecorder;
import dev.chassis.testsupport.TestServers;
import dev.chassis.testsupport.TestServiceImpl;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Drain through {@link ChassisServer#close()} in this JVM; SigtermDrainTest covers the signal. */
class DrainTest {

  @Test
  void close_inFlightStreamsComplete_andNewCallsServedDuringDrainDelay() throws Exception {
    ChassisServer server =
        ChassisServer.newBuilder(
                TestServers.loopback("chassis.shutdown { drain-delay = 1s, grace = 10s }"))
            .addService(new TestServiceImpl())
            .start();
    ManagedChannel channel = TestServers.channel(server.port());
    try {
      List<Stream> streams = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        streams.add(Stream.start(channel, 10, 150));
      }
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> streams.stream().allMatch(s -> !s.received.isEmpty()));
      CompletableFuture<Void> drain = CompletableFuture.runAsync(server::close);

      await().atMost(Duration.ofSeconds(2)).until(server::isDraining);
      assertThat(health(channel)).isEqualTo(ServingStatus.NOT_SERVING);
      String during =
          TestServiceGrpc.newBlockingStub(channel)
              .withDeadlineAfter(5, TimeUnit.SECONDS)
              .unary(TestRequest.newBuilder().setAction("ok").build())
              .getMessage();

      assertThat(during).isEqualTo("test");
      for (Stream stream : streams) {
        assertThat(stream.done.get(10, TimeUnit.SECONDS)).isEqualTo(Status.Code.OK);
        assertThat(stream.received).hasSize(10);
      }
      drain.get(10, TimeUnit.SECONDS);
      assertThatThrownBy(
              () ->
                  TestServiceGrpc.newBlockingStub(channel)
                      .withDeadlineAfter(2, TimeUnit.SECONDS)
                      .unary(TestRequest.newBuilder().setAction("ok").build()))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.close();
    }
  }

  @Test
  void close_callOutlivingGrace_isCancelledAndCloseReturns() throws Exception {
    ChassisServer server =
        ChassisServer.newBuilder(
                TestServers.loopback("chassis.shutdown { drain-delay = 0s, grace = 500ms }"))
            .addService(new TestServiceImpl())
            .start();
    ManagedChannel channel = TestServers.channel(server.port());
    try {
      Stream slow = Stream.start(channel, 100, 100);
      await().atMost(Duration.ofSeconds(5)).until(() -> !slow.received.isEmpty());

      long start = System.nanoTime();
      server.close();

      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(8));
      assertThat(slow.done.get(5, TimeUnit.SECONDS)).isNotEqualTo(Status.Code.OK);
      assertThat(server.awaitTermination(Duration.ZERO)).isTrue();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void close_onInterruptedThread_stillWaitsForInFlightCalls() throws Exception {
    ChassisServer server =
        ChassisServer.newBuilder(
                TestServers.loopback("chassis.shutdown { drain-delay = 0s, grace = 10s }"))
            .addService(new TestServiceImpl())
            .start();
    ManagedChannel channel = TestServers.channel(server.port());
    try {
      Stream stream = Stream.start(channel, 5, 100);
      await().atMost(Duration.ofSeconds(5)).until(() -> !stream.received.isEmpty());

      Thread.currentThread().interrupt();
      server.close();
      boolean stillInterrupted = Thread.interrupted();

      assertThat(stillInterrupted).as("interrupt status restored").isTrue();
      assertThat(stream.done.get(5, TimeUnit.SECONDS)).isEqualTo(Status.Code.OK);
      assertThat(stream.received).hasSize(5);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void close_openHealthWatch_doesNotHoldTheDrain() throws Exception {
    ChassisServer server =
        ChassisServer.newBuilder(
                TestServers.loopback("chassis.shutdown { drain-delay = 0s, grace = 60s }"))
            .addService(new TestServiceImpl())
            .start();
    ManagedChannel channel = TestServers.channel(server.port());
    try {
      List<ServingStatus> seen = new CopyOnWriteArrayList<>();
      CompletableFuture<Status.Code> watchEnded = new CompletableFuture<>();
      HealthGrpc.newStub(channel)
          .watch(
              HealthCheckRequest.getDefaultInstance(),
              new StreamObserver<>() {
                @Override
                public void onNext(io.grpc.health.v1.HealthCheckResponse value) {
                  seen.add(value.getStatus());
                }

                @Override
                public void onError(Throwable t) {
                  watchEnded.complete(Status.fromThrowable(t).getCode());
                }

                @Override
                public void onCompleted() {
                  watchEnded.complete(Status.Code.OK);
                }
              });
      await().atMost(Duration.ofSeconds(5)).until(() -> seen.contains(ServingStatus.SERVING));

      CompletableFuture<Void> drain = CompletableFuture.runAsync(server::close);

      // Well inside the 60 s grace: the watcher is ended, not waited for.
      drain.get(20, TimeUnit.SECONDS);
      assertThat(watchEnded.get(5, TimeUnit.SECONDS)).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(seen).contains(ServingStatus.NOT_SERVING);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void close_runsLifecycleListenersInOrder() throws Exception {
    List<String> events = new CopyOnWriteArrayList<>();
    ChassisServer server =
        ChassisServer.newBuilder(TestServers.loopback(""))
            .addService(new TestServiceImpl())
            .lifecycleListener(
                new LifecycleListener() {
                  @Override
                  public void onStarted(ChassisServer s) {
                    events.add("started");
                  }

                  @Override
                  public void onDraining(ChassisServer s) {
                    events.add("draining ready=" + s.isReady());
                  }

                  @Override
                  public void onStopped(ChassisServer s) {
                    events.add("stopped");
                  }
                })
            .start();

    server.close();
    server.close();

    assertThat(events).containsExactly("started", "draining ready=false", "stopped");
  }

  private static ServingStatus health(ManagedChannel channel) {
    return HealthGrpc.newBlockingStub(channel)
        .withDeadlineAfter(5, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance())
        .getStatus();
  }

  /** A server-streaming call that records what arrives. */
  static final class Stream extends StreamRecorder<TestResponse> {
    static Stream start(ManagedChannel channel, int count, int delayMs) {
      Stream stream = new Stream();
      TestServiceGrpc.newStub(channel)
          .withDeadlineAfter(30, TimeUnit.SECONDS)
          .serverStream(
              TestRequest.newBuilder().setCount(count).setDelayMs(delayMs).build(), stream);
      return stream;
    }
  }
}
