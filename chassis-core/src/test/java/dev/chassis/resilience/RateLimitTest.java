package dev.chassis.resilience;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.Any;
import com.google.rpc.RetryInfo;
import dev.chassis.resilience.RateLimitSettings.Rate;
import dev.chassis.server.ChassisServer;
import dev.chassis.test.v1.TestRequest;
import dev.chassis.test.v1.TestResponse;
import dev.chassis.test.v1.TestServiceGrpc;
import dev.chassis.testsupport.TestServers;
import dev.chassis.testsupport.TestServiceImpl;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ServerLimits#rateLimit} on a loopback Chassis server. Every rule uses a one-minute period,
 * so no budget refills while a test runs.
 */
class RateLimitTest {
  private static final String SERVICE = TestServiceGrpc.SERVICE_NAME;
  private static final String UNARY = TestServiceGrpc.getUnaryMethod().getFullMethodName();
  private static final String SERVER_STREAM =
      TestServiceGrpc.getServerStreamMethod().getFullMethodName();
  private static final Metadata.Key<String> CALLER =
      Metadata.Key.of("x-caller-id", Metadata.ASCII_STRING_MARSHALLER);

  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final AtomicInteger handlerStarts = new AtomicInteger();
  private @Nullable ChassisServer server;
  private @Nullable ManagedChannel channel;

  @AfterEach
  void stop() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.close();
    }
  }

  @Test
  void rateLimit_withinRate_callsPass() throws Exception {
    start(RateLimitSettings.of(Map.of(UNARY, Rate.perMinute(3))));

    List<String> replies = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      replies.add(unary(null));
    }

    assertThat(replies).containsOnly("test").hasSize(3);
    assertThat(handlerStarts).hasValue(3);
    assertThat(rejectedCount(UNARY)).isZero();
  }

  @Test
  void rateLimit_beyondRate_returnsResourceExhaustedWithRetryInfo() throws Exception {
    start(RateLimitSettings.of(Map.of(UNARY, Rate.perMinute(2))));
    unary(null);
    unary(null);

    StatusRuntimeException rejected =
        catchThrowableOfType(StatusRuntimeException.class, () -> unary(null));

    assertThat(rejected.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(rejected.getStatus().getDescription()).isEqualTo("rate limit exceeded for " + UNARY);
    com.google.rpc.Status details = StatusProto.fromThrowable(rejected);
    assertThat(details).isNotNull();
    Any retryDetail =
        details.getDetailsList().stream().filter(d -> d.is(RetryInfo.class)).findFirst().get();
    com.google.protobuf.Duration delay = retryDetail.unpack(RetryInfo.class).getRetryDelay();
    assertThat(Duration.ofSeconds(delay.getSeconds(), delay.getNanos()))
        .isPositive()
        .isLessThanOrEqualTo(Duration.ofMinutes(1));
    assertThat(handlerStarts).as("handler not run for the rejected call").hasValue(2);
    assertThat(rejectedCount(UNARY)).isEqualTo(1);
  }

  @Test
  void rateLimit_methodWithoutRule_isNotLimited() throws Exception {
    start(RateLimitSettings.of(Map.of(SERVER_STREAM, Rate.perMinute(1))));

    for (int i = 0; i < 5; i++) {
      assertThat(unary(null)).isEqualTo("test");
    }

    assertThat(handlerStarts).hasValue(5);
    assertThat(meters.find(RateLimitServerInterceptor.REJECTED_METRIC).counters()).isEmpty();
  }

  @Test
  void rateLimit_methodRule_winsOverServiceRule() throws Exception {
    start(
        RateLimitSettings.of(
            Map.of(SERVICE, Rate.perMinute(1), UNARY, Rate.perMinute(3), "*", Rate.perMinute(1))));

    for (int i = 0; i < 3; i++) {
      unary(null);
    }
    Status.Code fourthUnary = code(() -> unary(null));
    List<TestResponse> firstStream = serverStream(2);
    Status.Code secondStream = code(() -> serverStream(2));

    assertThat(fourthUnary).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(firstStream).hasSize(2);
    assertThat(secondStream).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(rejectedCount(UNARY)).isEqualTo(1);
    assertThat(rejectedCount(SERVER_STREAM)).isEqualTo(1);
  }

  @Test
  void rateLimit_wildcard_sharesOneBudgetAndStreamsCostOnePermitAtStart() throws Exception {
    start(RateLimitSettings.of(Map.of("*", Rate.perMinute(2))));

    List<TestResponse> streamed = serverStream(3);
    List<TestResponse> echoed = bidi("a", "b", "c").get(5, TimeUnit.SECONDS);
    Status.Code unaryAfter = code(() -> unary(null));
    Status.Code bidiAfter = code(() -> bidi("x").get(5, TimeUnit.SECONDS));

    assertThat(streamed).hasSize(3);
    assertThat(echoed).extracting(TestResponse::getMessage).containsExactly("a", "b", "c");
    assertThat(unaryAfter).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(bidiAfter).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(handlerStarts).hasValue(2);
  }

  @Test
  void rateLimit_perCaller_limitsEachCallerIndependently() throws Exception {
    start(RateLimitSettings.of(Map.of("*", Rate.perMinute(2))).perCaller("x-caller-id"));

    List<Status.Code> codes = new ArrayList<>();
    for (String caller : new String[] {"alice", "alice", "alice", "bob", "bob", "bob"}) {
      codes.add(code(() -> unary(caller)));
    }
    for (int i = 0; i < 3; i++) {
      codes.add(code(() -> unary(null)));
    }

    Status.Code ok = Status.Code.OK;
    Status.Code over = Status.Code.RESOURCE_EXHAUSTED;
    assertThat(codes).containsExactly(ok, ok, over, ok, ok, over, ok, ok, over);
    assertThat(handlerStarts).hasValue(6);
    assertThat(rejectedCount(UNARY)).isEqualTo(3);
    assertThat(meters.find("resilience4j.ratelimiter.available.permissions").gauges())
        .as("caller identities never become metric tags")
        .isEmpty();
  }

  @Test
  void rateLimit_perCaller_beyondMaxCallers_evictsLeastRecentlySeenCaller() throws Exception {
    start(
        RateLimitSettings.of(Map.of(UNARY, Rate.perMinute(1)))
            .perCaller("x-caller-id")
            .withMaxCallers(2));

    Status.Code aliceFirst = code(() -> unary("alice"));
    Status.Code aliceAgain = code(() -> unary("alice"));
    code(() -> unary("bob"));
    code(() -> unary("carol"));
    Status.Code aliceAfterEviction = code(() -> unary("alice"));

    assertThat(aliceFirst).isEqualTo(Status.Code.OK);
    assertThat(aliceAgain).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(aliceAfterEviction).as("alice's budget was evicted").isEqualTo(Status.Code.OK);
  }

  @Test
  void rateLimit_sharedLimiter_exportsResilience4jMetrics() throws Exception {
    start(RateLimitSettings.of(Map.of(UNARY, Rate.perMinute(5))));

    unary(null);
    unary(null);

    double available =
        meters
            .get("resilience4j.ratelimiter.available.permissions")
            .tag("name", UNARY)
            .gauge()
            .value();
    assertThat(available).isEqualTo(3);
  }

  @Test
  void rateLimitSettings_invalidValues_areRejectedWithTheExpectedRange() {
    assertThatThrownBy(() -> new Rate(0, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("permits: 0 (expected: > 0)");
    assertThatThrownBy(() -> new Rate(1, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("period: PT0S (expected: > 0)");
    for (String key : List.of("", "a//b", "a/b/c", "/Method", "pkg.Service/", "pkg.*", "a b")) {
      assertThatThrownBy(() -> RateLimitSettings.of(Map.of(key, Rate.perSecond(1))))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("limits key: \"" + key + "\" (expected: ");
    }
    assertThatThrownBy(() -> RateLimitSettings.of(Map.of()).perCaller("x-caller-bin"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("callerMetadataKey: \"x-caller-bin\"");
    assertThatThrownBy(() -> RateLimitSettings.of(Map.of()).withMaxCallers(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxCallers: 0 (expected: > 0)");
  }

  private void start(RateLimitSettings settings) throws Exception {
    server =
        ChassisServer.newBuilder(TestServers.loopback("chassis.admin.port = -1"))
            .addService(new TestServiceImpl())
            .intercept(ServerLimits.rateLimit(settings, meters))
            .intercept(countHandlerStarts())
            .start();
    channel = TestServers.channel(server.port());
  }

  /** Inside the limit: counts the calls that reach the handler. */
  private ServerInterceptor countHandlerStarts() {
    return new ServerInterceptor() {
      @Override
      public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
          ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
        handlerStarts.incrementAndGet();
        return next.startCall(call, headers);
      }
    };
  }

  private double rejectedCount(String method) {
    var counter =
        meters
            .find(RateLimitServerInterceptor.REJECTED_METRIC)
            .tag("grpc.method", method)
            .counter();
    return counter == null ? 0 : counter.count();
  }

  private TestServiceGrpc.TestServiceBlockingStub blocking(@Nullable String caller) {
    TestServiceGrpc.TestServiceBlockingStub stub =
        TestServiceGrpc.newBlockingStub(channel()).withDeadlineAfter(5, TimeUnit.SECONDS);
    if (caller == null) {
      return stub;
    }
    Metadata headers = new Metadata();
    headers.put(CALLER, caller);
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  private String unary(@Nullable String caller) {
    return blocking(caller).unary(TestRequest.newBuilder().setAction("ok").build()).getMessage();
  }

  private List<TestResponse> serverStream(int count) {
    List<TestResponse> received = new ArrayList<>();
    blocking(null)
        .serverStream(TestRequest.newBuilder().setCount(count).build())
        .forEachRemaining(received::add);
    return received;
  }

  /** Sends the payloads on a bidi stream, half-closes, and completes with the echoes. */
  private CompletableFuture<List<TestResponse>> bidi(String... payloads) {
    CompletableFuture<List<TestResponse>> done = new CompletableFuture<>();
    List<TestResponse> received = new ArrayList<>();
    StreamObserver<TestRequest> requests =
        TestServiceGrpc.newStub(channel())
            .withDeadlineAfter(5, TimeUnit.SECONDS)
            .bidiStream(
                new StreamObserver<>() {
                  @Override
                  public void onNext(TestResponse value) {
                    received.add(value);
                  }

                  @Override
                  public void onError(Throwable t) {
                    done.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {
                    done.complete(received);
                  }
                });
    for (String payload : payloads) {
      requests.onNext(TestRequest.newBuilder().setPayload(payload).build());
    }
    requests.onCompleted();
    return done;
  }

  private ManagedChannel channel() {
    if (channel == null) {
      throw new IllegalStateException("server not started");
    }
    return channel;
  }

  /** The status a call ended with: OK when it returned. */
  private static Status.Code code(ThrowingRunnable call) {
    try {
      call.run();
      return Status.Code.OK;
    } catch (Exception e) {
      return Status.fromThrowable(e).getCode();
    }
  }

  @FunctionalInterface
  private interface ThrowingRunnable {
    void run() throws Exception;
  }
}
