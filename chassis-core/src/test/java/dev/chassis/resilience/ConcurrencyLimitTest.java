package dev.chassis.resilience;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.rpc.RetryInfo;
import dev.chassis.server.ChassisServer;
import dev.chassis.test.v1.TestRequest;
import dev.chassis.test.v1.TestResponse;
import dev.chassis.test.v1.TestServiceGrpc;
import dev.chassis.testsupport.StreamRecorder;
import dev.chassis.testsupport.TestServers;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ServerLimits#concurrencyLimit} on a loopback Chassis server. Calls are held open by a
 * service that waits on a latch, so "concurrent" is exact, not a matter of timing.
 */
class ConcurrencyLimitTest {
  private static final String UNARY = TestServiceGrpc.getUnaryMethod().getFullMethodName();
  private static final String SERVER_STREAM =
      TestServiceGrpc.getServerStreamMethod().getFullMethodName();
  private static final String BIDI = TestServiceGrpc.getBidiStreamMethod().getFullMethodName();
  private static final Metadata.Key<String> FAIL_START =
      Metadata.Key.of("x-fail-start", Metadata.ASCII_STRING_MARSHALLER);
  private static final Duration WAIT = Duration.ofSeconds(5);

  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final GatedService service = new GatedService();
  private @Nullable ChassisServer server;
  private @Nullable ManagedChannel channel;

  @AfterEach
  void stop() throws InterruptedException {
    service.open();
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.close();
    }
  }

  @Test
  void concurrencyLimit_fixed_shedsThirdConcurrentUnaryCall() throws Exception {
    start(ConcurrencyLimitSettings.fixed(2));
    ListenableFuture<TestResponse> first = holdUnary();
    ListenableFuture<TestResponse> second = holdUnary();
    await().atMost(WAIT).until(() -> service.started.get() == 2);

    StatusRuntimeException rejected =
        catchThrowableOfType(StatusRuntimeException.class, () -> unary("ok"));

    assertThat(rejected.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(rejected.getStatus().getDescription())
        .isEqualTo("server overloaded: too many concurrent calls");
    com.google.rpc.Status details = StatusProto.fromThrowable(rejected);
    assertThat(details).isNotNull();
    assertThat(details.getDetailsList()).anyMatch(d -> d.is(RetryInfo.class));
    assertThat(service.started).as("handler not run for the rejected call").hasValue(2);
    assertThat(inFlight()).isEqualTo(2);
    assertThat(rejectedCount(UNARY)).isEqualTo(1);

    service.open();
    assertThat(first.get(5, TimeUnit.SECONDS).getMessage()).isEqualTo("held");
    assertThat(second.get(5, TimeUnit.SECONDS).getMessage()).isEqualTo("held");
    await().atMost(WAIT).until(() -> inFlight() == 0);
    assertThat(unary("ok")).isEqualTo("ok");
  }

  @Test
  void concurrencyLimit_fixed_shedsThirdConcurrentServerStreamAndBidiCall() throws Exception {
    start(ConcurrencyLimitSettings.fixed(2));
    HeldStream first = holdServerStream();
    HeldStream second = holdServerStream();
    await().atMost(WAIT).until(() -> first.received.size() == 1 && second.received.size() == 1);

    Status.Code thirdStream = holdServerStream().done.get(5, TimeUnit.SECONDS);
    Status.Code thirdBidi = codeOf(bidi("x").done());
    Status.Code thirdUnary = codeOf(() -> unary("ok"));

    assertThat(thirdStream).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(thirdBidi).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(thirdUnary).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(service.started).hasValue(2);
    assertThat(rejectedCount(SERVER_STREAM)).isEqualTo(1);
    assertThat(rejectedCount(BIDI)).isEqualTo(1);
    assertThat(inFlight()).isEqualTo(2);
  }

  @Test
  void concurrencyLimit_clientCancelsStreams_releasesTheirSlots() throws Exception {
    start(ConcurrencyLimitSettings.fixed(2));
    HeldStream first = holdServerStream();
    HeldStream second = holdServerStream();
    await().atMost(WAIT).until(() -> first.received.size() == 1 && second.received.size() == 1);

    first.cancel();
    second.cancel();

    await().atMost(WAIT).until(() -> inFlight() == 0);
    assertThat(first.done.get(5, TimeUnit.SECONDS)).isEqualTo(Status.Code.CANCELLED);
    assertThat(unary("ok")).isEqualTo("ok");
    assertThat(bidi("a").done().get(5, TimeUnit.SECONDS)).isEqualTo(Status.Code.OK);
  }

  @Test
  void concurrencyLimit_clientCancelsUnaryCalls_releasesSlotsOnceHandlersReturn() throws Exception {
    start(ConcurrencyLimitSettings.fixed(2));
    ListenableFuture<TestResponse> first = holdUnary();
    ListenableFuture<TestResponse> second = holdUnary();
    await().atMost(WAIT).until(() -> service.started.get() == 2);

    first.cancel(true);
    second.cancel(true);
    Status.Code whileHandlersRun = codeOf(() -> unary("ok"));
    service.open();

    await().atMost(WAIT).until(() -> inFlight() == 0);
    assertThat(whileHandlersRun)
        .as("a cancelled call keeps its slot while its handler still runs")
        .isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(unary("ok")).isEqualTo("ok");
  }

  @Test
  void concurrencyLimit_bidiStreams_holdSlotsUntilTheyEnd() throws Exception {
    start(ConcurrencyLimitSettings.fixed(2));
    Bidi first = bidiOpen("a");
    Bidi second = bidiOpen("b");
    await().atMost(WAIT).until(() -> first.received().size() == 1 && second.received().size() == 1);
    Status.Code third = codeOf(bidi("c").done());

    first.requests().onCompleted();
    Status.Code firstEnded = first.done().get(5, TimeUnit.SECONDS);
    await().atMost(WAIT).until(() -> inFlight() == 1);
    Status.Code admittedAfterFirst = bidi("d").done().get(5, TimeUnit.SECONDS);
    second.requests().onError(new IllegalStateException("client gives up"));
    await().atMost(WAIT).until(() -> inFlight() == 0);

    assertThat(third).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(firstEnded).isEqualTo(Status.Code.OK);
    assertThat(admittedAfterFirst).isEqualTo(Status.Code.OK);
    assertThat(second.done().get(5, TimeUnit.SECONDS)).isEqualTo(Status.Code.CANCELLED);
  }

  @Test
  void concurrencyLimit_startCallThrows_releasesSlot() throws Exception {
    start(ConcurrencyLimitSettings.fixed(2));

    for (int i = 0; i < 3; i++) {
      Status.Code code = codeOf(() -> unaryFailingStart());
      assertThat(code).isNotEqualTo(Status.Code.OK).isNotEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    }

    assertThat(inFlight()).isZero();
    assertThat(unary("ok")).isEqualTo("ok");
  }

  @Test
  void concurrencyLimit_handlerThrows_releasesSlot() throws Exception {
    start(ConcurrencyLimitSettings.fixed(2));

    for (int i = 0; i < 3; i++) {
      Status.Code code = codeOf(() -> unary("boom"));
      assertThat(code).isEqualTo(Status.Code.INTERNAL);
    }

    await().atMost(WAIT).until(() -> inFlight() == 0);
    assertThat(unary("ok")).isEqualTo("ok");
  }

  @Test
  void concurrencyLimit_gradient2_admitsCallsUnderLightLoad() throws Exception {
    start(ConcurrencyLimitSettings.gradient2(10, 2, 100));

    for (int i = 0; i < 50; i++) {
      assertThat(unary("ok")).isEqualTo("ok");
    }

    await().atMost(WAIT).until(() -> inFlight() == 0);
    assertThat(meters.get(ConcurrencyLimitServerInterceptor.LIMIT_METRIC).gauge().value())
        .isBetween(2.0, 100.0);
    assertThat(meters.find(ConcurrencyLimitServerInterceptor.REJECTED_METRIC).counters()).isEmpty();
  }

  @Test
  void concurrencyLimit_vegas_admitsCallsUnderLightLoad() throws Exception {
    start(ConcurrencyLimitSettings.vegas(10, 2, 100));

    for (int i = 0; i < 50; i++) {
      assertThat(unary("ok")).isEqualTo("ok");
    }

    await().atMost(WAIT).until(() -> inFlight() == 0);
    assertThat(meters.get(ConcurrencyLimitServerInterceptor.LIMIT_METRIC).gauge().value())
        .isBetween(2.0, 100.0);
  }

  @Test
  void concurrencyLimitSettings_invalidValues_areRejectedWithTheExpectedRange() {
    assertThatThrownBy(() -> ConcurrencyLimitSettings.fixed(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("limit: 0 (expected: > 0)");
    assertThatThrownBy(() -> ConcurrencyLimitSettings.gradient2(10, 0, 100))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("minLimit: 0 (expected: > 0)");
    assertThatThrownBy(() -> ConcurrencyLimitSettings.vegas(10, 20, 100))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("minLimit: 20 (expected: <= limit 10)");
    assertThatThrownBy(() -> ConcurrencyLimitSettings.gradient2(10, 1, 5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxLimit: 5 (expected: >= limit 10)");
  }

  private void start(ConcurrencyLimitSettings settings) throws Exception {
    server =
        ChassisServer.newBuilder(TestServers.loopback("chassis.admin.port = -1"))
            .addService(service)
            .intercept(ServerLimits.concurrencyLimit(settings, meters))
            .intercept(failStartWhenAsked())
            .start();
    channel = TestServers.channel(server.port());
  }

  /** Inside the limit: throws from startCall when the caller sends {@code x-fail-start}. */
  private static ServerInterceptor failStartWhenAsked() {
    return new ServerInterceptor() {
      @Override
      public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
          ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
        if (headers.containsKey(FAIL_START)) {
          throw new IllegalStateException("startCall failed");
        }
        return next.startCall(call, headers);
      }
    };
  }

  private double inFlight() {
    return meters.get(ConcurrencyLimitServerInterceptor.IN_FLIGHT_METRIC).gauge().value();
  }

  private double rejectedCount(String method) {
    Counter counter =
        meters
            .find(ConcurrencyLimitServerInterceptor.REJECTED_METRIC)
            .tag("grpc.method", method)
            .counter();
    return counter == null ? 0 : counter.count();
  }

  private ManagedChannel channel() {
    if (channel == null) {
      throw new IllegalStateException("server not started");
    }
    return channel;
  }

  private String unary(String action) {
    return TestServiceGrpc.newBlockingStub(channel())
        .withDeadlineAfter(5, TimeUnit.SECONDS)
        .unary(TestRequest.newBuilder().setAction(action).build())
        .getMessage();
  }

  private void unaryFailingStart() {
    Metadata headers = new Metadata();
    headers.put(FAIL_START, "1");
    TestServiceGrpc.newBlockingStub(channel())
        .withDeadlineAfter(5, TimeUnit.SECONDS)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
        .unary(TestRequest.newBuilder().setAction("ok").build());
  }

  private ListenableFuture<TestResponse> holdUnary() {
    return TestServiceGrpc.newFutureStub(channel())
        .withDeadlineAfter(20, TimeUnit.SECONDS)
        .unary(TestRequest.newBuilder().setAction("hold").build());
  }

  private HeldStream holdServerStream() {
    HeldStream stream = new HeldStream();
    TestServiceGrpc.newStub(channel())
        .withDeadlineAfter(20, TimeUnit.SECONDS)
        .serverStream(TestRequest.newBuilder().setAction("hold").build(), stream);
    return stream;
  }

  /** A bidi stream that sent one message and stays open. */
  private Bidi bidiOpen(String payload) {
    Received responses = new Received();
    StreamObserver<TestRequest> requests =
        TestServiceGrpc.newStub(channel())
            .withDeadlineAfter(20, TimeUnit.SECONDS)
            .bidiStream(responses);
    requests.onNext(TestRequest.newBuilder().setPayload(payload).build());
    return new Bidi(requests, responses);
  }

  /** A bidi stream that sends one message and half-closes. */
  private Bidi bidi(String payload) {
    Bidi bidi = bidiOpen(payload);
    bidi.requests().onCompleted();
    return bidi;
  }

  private static Status.Code codeOf(CompletableFuture<Status.Code> done) throws Exception {
    return done.get(5, TimeUnit.SECONDS);
  }

  private static Status.Code codeOf(Runnable call) {
    try {
      call.run();
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  /** Records what a call received and the status it ended with. */
  private static class Received extends StreamRecorder<TestResponse> {}

  /** A server-streaming call the client can cancel. */
  private static final class HeldStream extends Received
      implements ClientResponseObserver<TestRequest, TestResponse> {
    private volatile @Nullable ClientCallStreamObserver<TestRequest> call;

    @Override
    public void beforeStart(ClientCallStreamObserver<TestRequest> requestStream) {
      this.call = requestStream;
    }

    void cancel() {
      ClientCallStreamObserver<TestRequest> current = call;
      if (current == null) {
        throw new IllegalStateException("call not started");
      }
      current.cancel("client cancels", null);
    }
  }

  /** A bidi call: what the client sends on, and what it received. */
  private record Bidi(StreamObserver<TestRequest> requests, Received responses) {
    List<TestResponse> received() {
      return responses.received;
    }

    CompletableFuture<Status.Code> done() {
      return responses.done;
    }
  }

  /**
   * With action {@code hold}, a unary handler blocks its thread until {@link #open()}, and a server
   * stream sends one message and stays open (without holding a thread) until then; {@code ok}
   * replies at once; {@code boom} throws. Bidi echoes each payload and completes when the client
   * does.
   */
  private static final class GatedService extends TestServiceGrpc.TestServiceImplBase {
    final AtomicInteger started = new AtomicInteger();
    private final CountDownLatch gate = new CountDownLatch(1);
    private final List<StreamObserver<TestResponse>> heldStreams = new CopyOnWriteArrayList<>();

    /** Lets held unary handlers reply and completes held streams. */
    void open() {
      gate.countDown();
      for (StreamObserver<TestResponse> stream : heldStreams) {
        try {
          stream.onCompleted();
        } catch (RuntimeException e) {
          // Cancelled by the client meanwhile.
        }
      }
      heldStreams.clear();
    }

    @Override
    public void unary(TestRequest request, StreamObserver<TestResponse> response) {
      started.incrementAndGet();
      switch (request.getAction()) {
        case "hold" -> {
          awaitGate();
          reply(response, "held");
        }
        case "boom" -> throw new IllegalStateException("handler failed");
        default -> reply(response, "ok");
      }
    }

    @Override
    public void serverStream(TestRequest request, StreamObserver<TestResponse> response) {
      started.incrementAndGet();
      response.onNext(TestResponse.newBuilder().setMessage("first").build());
      if (request.getAction().equals("hold") && gate.getCount() > 0) {
        heldStreams.add(response);
      } else {
        response.onCompleted();
      }
    }

    @Override
    public StreamObserver<TestRequest> bidiStream(StreamObserver<TestResponse> response) {
      started.incrementAndGet();
      return new StreamObserver<>() {
        @Override
        public void onNext(TestRequest request) {
          response.onNext(TestResponse.newBuilder().setMessage(request.getPayload()).build());
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          response.onCompleted();
        }
      };
    }

    private void awaitGate() {
      try {
        // Bounded so a failed test cannot hold a server thread forever.
        gate.await(20, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    private static void reply(StreamObserver<TestResponse> response, String message) {
      response.onNext(TestResponse.newBuilder().setMessage(message).build());
      response.onCompleted();
    }
  }
}
