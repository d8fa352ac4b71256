package dev.chassis.testing;

import static dev.chassis.testing.GrpcAssertions.assertThatGrpc;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.chassis.ChassisConfig;
import dev.chassis.ChassisConfigException;
import dev.chassis.testkit.v1.EchoRequest;
import dev.chassis.testkit.v1.EchoResponse;
import dev.chassis.testkit.v1.EchoServiceGrpc;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptors;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

class FaultInjectionTest {
  private static final String ECHO = "chassis.testkit.v1.EchoService/Echo";
  private static final long TIMEOUT_SECONDS = 10;

  /** What the server's fault interceptor does; tests swap it. */
  private volatile FaultInjection faults = FaultInjection.disabled();

  /** One permit each time the fault interceptor has decided about a call. */
  private final Semaphore decided = new Semaphore(0);

  @RegisterExtension
  final ChassisServerExtension server =
      ChassisServerExtension.newBuilder(
              builder ->
                  builder
                      .addService(new EchoService())
                      .addService(Chat.definition())
                      .intercept(new SwitchableFaults()))
          .build();

  // --- server side: abort ---

  @Test
  void serverAbort_everyCall_failsWithCodeAndHandlerNeverRuns() {
    faults = FaultInjection.newBuilder().abort(ECHO, 100, Status.Code.UNAVAILABLE).build();

    for (int i = 0; i < 3; i++) {
      assertThatGrpc(() -> echo(server.channel(), "hi"))
          .failsWith(Status.Code.UNAVAILABLE)
          .hasMessage("fault injected");
    }

    faults = FaultInjection.disabled();
    assertThat(echo(server.channel(), "hi").getCalls()).isEqualTo(1);
  }

  @Test
  void serverAbort_zeroPercent_neverAborts() {
    faults = FaultInjection.newBuilder().abort("*", 0, Status.Code.UNAVAILABLE).build();

    EchoResponse last = null;
    for (int i = 0; i < 50; i++) {
      last = echo(server.channel(), "hi");
    }

    assertThat(last.getCalls()).isEqualTo(50);
  }

  @Test
  void serverAbort_halfOfCalls_abortsAboutHalfAndSeededRandomRepeats() {
    List<Boolean> first = outcomes(seededHalf(), 200);
    List<Boolean> second = outcomes(seededHalf(), 200);

    long aborted = first.stream().filter(failed -> failed).count();
    assertThat(aborted).isBetween(70L, 130L);
    assertThat(second).isEqualTo(first);
    faults = FaultInjection.disabled();
    // Only the calls that were not aborted reached the handler.
    assertThat(echo(server.channel(), "hi").getCalls()).isEqualTo(2 * (200 - aborted) + 1);
  }

  @Test
  void serverAbort_streamingCall_failsBeforeHandler() throws InterruptedException {
    faults = FaultInjection.newBuilder().abort("test.Chat/*", 100, Status.Code.UNAVAILABLE).build();
    RecordingStreamObserver<String> responses = RecordingStreamObserver.create();

    StreamObserver<String> requests =
        ClientCalls.asyncBidiStreamingCall(
            server.channel().newCall(Chat.CHAT, callOptions()), responses);
    requests.onNext("a");
    requests.onCompleted();

    Status status = responses.awaitCompletion(Duration.ofSeconds(TIMEOUT_SECONDS));
    assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(responses.values()).isEmpty();
  }

  // --- server side: delay ---

  @Test
  void serverDelay_unaryCall_startsHandlerAfterDelayAndAnswers() {
    Duration delay = Duration.ofMillis(300);
    faults = FaultInjection.newBuilder().delay(ECHO, 100, delay).build();

    long start = System.nanoTime();
    EchoResponse response = echo(server.channel(), "slow");
    Duration elapsed = Duration.ofNanos(System.nanoTime() - start);

    assertThat(elapsed).isGreaterThanOrEqualTo(delay);
    assertThat(response.getText()).isEqualTo("slow");
    assertThat(response.getCalls()).isEqualTo(1);
  }

  @Test
  void serverDelay_handlerStillRunsInsideChassisChain() {
    faults = FaultInjection.newBuilder().delay(ECHO, 100, Duration.ofMillis(100)).build();

    // Exception mapping wraps the delayed handler as it wraps any other.
    assertThatGrpc(() -> echo(server.channel(), "missing"))
        .failsWith(Status.Code.NOT_FOUND)
        .hasResourceInfo("echo", "missing");
  }

  @Test
  void serverDelay_serverStreamingCall_deliversAllMessagesInOrder() {
    Duration delay = Duration.ofMillis(200);
    faults = FaultInjection.newBuilder().delay("test.Chat/Split", 100, delay).build();

    long start = System.nanoTime();
    List<String> parts = split(server.channel(), "abc");

    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(delay);
    assertThat(parts).containsExactly("a", "b", "c");
  }

  @Test
  void serverDelay_bidiStreamingCall_deliversMessagesInOrderAfterDelay()
      throws InterruptedException {
    Duration delay = Duration.ofMillis(200);
    faults = FaultInjection.newBuilder().delay("test.Chat/Chat", 100, delay).build();
    RecordingStreamObserver<String> responses = RecordingStreamObserver.create();

    long start = System.nanoTime();
    StreamObserver<String> requests =
        ClientCalls.asyncBidiStreamingCall(
            server.channel().newCall(Chat.CHAT, callOptions()), responses);
    requests.onNext("a");
    requests.onNext("b");
    requests.onNext("c");
    requests.onCompleted();
    Status status = responses.awaitCompletion(Duration.ofSeconds(TIMEOUT_SECONDS));

    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(delay);
    assertThat(status.getCode()).isEqualTo(Status.Code.OK);
    assertThat(responses.values()).containsExactly("a", "b", "c");
  }

  @Test
  void serverDelay_handlerRequestingLaterFromItsOwnThread_stillGetsTheRequest() {
    faults =
        FaultInjection.newBuilder()
            .delay("test.Chat/LateRequest", 100, Duration.ofMillis(100))
            .build();

    List<String> responses = new ArrayList<>();
    ClientCalls.blockingServerStreamingCall(
            server.channel(), Chat.LATE_REQUEST, callOptions(), "hello")
        .forEachRemaining(responses::add);

    assertThat(responses).containsExactly("got hello");
  }

  @Test
  void serverDelay_callCancelledDuringDelay_neverReachesHandler() {
    faults = FaultInjection.newBuilder().delay(ECHO, 100, Duration.ofMillis(500)).build();

    assertThatGrpc(
            () ->
                EchoServiceGrpc.newBlockingStub(server.channel())
                    .withDeadlineAfter(100, TimeUnit.MILLISECONDS)
                    .echo(EchoRequest.newBuilder().setText("gives up").build()))
        .failsWith(Status.Code.DEADLINE_EXCEEDED);
    // Delayed the same way but started later: had the first call been started after its delay,
    // it would have reached the handler before this one.
    EchoResponse next = echo(server.channel(), "waits");

    assertThat(next.getCalls()).isEqualTo(1);
  }

  @Test
  void serverDelayAndAbort_oneRule_delaysThenFailsWithoutHandler() {
    Duration delay = Duration.ofMillis(200);
    faults =
        fromConfig(
            """
            enabled = true
            rules = [ { method = "%s", percent = 100, delay = 200ms, abort = UNAVAILABLE } ]
            """
                .formatted(ECHO));

    long start = System.nanoTime();
    assertThatGrpc(() -> echo(server.channel(), "hi")).failsWith(Status.Code.UNAVAILABLE);

    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(delay);
    faults = FaultInjection.disabled();
    assertThat(echo(server.channel(), "hi").getCalls()).isEqualTo(1);
  }

  /** A server with one handler thread: a delay that held it would hold every other call too. */
  @Nested
  class WithOneHandlerThread {
    @RegisterExtension
    final ChassisServerExtension small =
        ChassisServerExtension.newBuilder(
                builder -> builder.addService(new EchoService()).intercept(new SwitchableFaults()))
            .config("chassis.grpc.executor-threads = 1")
            .build();

    @Test
    void serverDelay_doesNotHoldTheHandlerThread() throws Exception {
      faults = FaultInjection.newBuilder().delay(ECHO, 100, Duration.ofSeconds(2)).build();
      Future<EchoResponse> delayed =
          EchoServiceGrpc.newFutureStub(small.channel())
              .withDeadlineAfter(TIMEOUT_SECONDS, TimeUnit.SECONDS)
              .echo(EchoRequest.newBuilder().setText("delayed").build());
      assertThat(decided.tryAcquire(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();

      faults = FaultInjection.disabled();
      EchoResponse prompt = echo(small.channel(), "prompt");

      assertThat(prompt.getText()).isEqualTo("prompt");
      assertThat(delayed.isDone()).isFalse();
      assertThat(delayed.get(TIMEOUT_SECONDS, TimeUnit.SECONDS).getText()).isEqualTo("delayed");
    }
  }

  // --- method patterns ---

  @ParameterizedTest
  @ValueSource(strings = {ECHO, "chassis.testkit.v1.EchoService/*", "*"})
  void pattern_matchingEcho_aborts(String pattern) {
    faults = FaultInjection.newBuilder().abort(pattern, 100, Status.Code.UNAVAILABLE).build();

    assertThatGrpc(() -> echo(server.channel(), "hi")).failsWith(Status.Code.UNAVAILABLE);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "chassis.testkit.v1.EchoService/Other",
        "chassis.testkit.v1.EchoServiceX/*",
        "chassis.testkit.v1/*",
        "test.Chat/*"
      })
  void pattern_notMatchingEcho_leavesItAlone(String pattern) {
    faults = FaultInjection.newBuilder().abort(pattern, 100, Status.Code.UNAVAILABLE).build();

    assertThatGrpc(() -> echo(server.channel(), "hi")).succeeds();
  }

  @Test
  void pattern_mostSpecificRuleDecides() {
    faults =
        FaultInjection.newBuilder()
            .abort("*", 100, Status.Code.UNAVAILABLE)
            .abort(ECHO, 0, Status.Code.INTERNAL)
            .build();

    assertThatGrpc(() -> echo(server.channel(), "hi")).succeeds();
    assertThatGrpc(() -> split(server.channel(), "ab")).failsWith(Status.Code.UNAVAILABLE);
  }

  // --- client side ---

  @Test
  void clientAbort_failsWithoutReachingServer() throws Exception {
    FaultInjection clientFaults =
        FaultInjection.newBuilder().abort(ECHO, 100, Status.Code.RESOURCE_EXHAUSTED).build();
    Channel channel =
        ClientInterceptors.intercept(server.channel(), clientFaults.clientInterceptor());

    assertThatGrpc(() -> echo(channel, "hi"))
        .failsWith(Status.Code.RESOURCE_EXHAUSTED)
        .hasMessage("fault injected");
    // Async stubs carry no executor of their own.
    Future<EchoResponse> future =
        EchoServiceGrpc.newFutureStub(channel).echo(EchoRequest.newBuilder().setText("a").build());
    assertThatThrownBy(() -> future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));

    assertThat(echo(server.channel(), "hi").getCalls()).isEqualTo(1);
  }

  @Test
  void clientDelay_startsCallLaterWithoutBlockingCaller() throws Exception {
    Duration delay = Duration.ofMillis(300);
    FaultInjection clientFaults = FaultInjection.newBuilder().delay(ECHO, 100, delay).build();
    Channel channel =
        ClientInterceptors.intercept(server.channel(), clientFaults.clientInterceptor());

    long start = System.nanoTime();
    Future<EchoResponse> future =
        EchoServiceGrpc.newFutureStub(channel)
            .withDeadlineAfter(TIMEOUT_SECONDS, TimeUnit.SECONDS)
            .echo(EchoRequest.newBuilder().setText("later").build());
    boolean doneOnReturn = future.isDone();
    EchoResponse response = future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);

    assertThat(doneOnReturn).isFalse();
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(delay);
    assertThat(response.getText()).isEqualTo("later");
  }

  @Test
  void clientDelay_streamingCall_replaysEverythingInOrder() throws InterruptedException {
    FaultInjection clientFaults =
        FaultInjection.newBuilder().delay("test.Chat/*", 100, Duration.ofMillis(100)).build();
    Channel channel =
        ClientInterceptors.intercept(server.channel(), clientFaults.clientInterceptor());
    RecordingStreamObserver<String> responses = RecordingStreamObserver.create();

    StreamObserver<String> requests =
        ClientCalls.asyncBidiStreamingCall(channel.newCall(Chat.CHAT, callOptions()), responses);
    requests.onNext("a");
    requests.onNext("b");
    requests.onCompleted();

    assertThat(responses.awaitCompletion(Duration.ofSeconds(TIMEOUT_SECONDS)).getCode())
        .isEqualTo(Status.Code.OK);
    assertThat(responses.values()).containsExactly("a", "b");
    assertThat(split(channel, "xyz")).containsExactly("x", "y", "z");
  }

  @Test
  void clientDelay_cancelledDuringDelay_closesAtOnceAndNeverReachesServer() throws Exception {
    FaultInjection clientFaults =
        FaultInjection.newBuilder().delay(ECHO, 100, Duration.ofMillis(300)).build();
    Channel channel =
        ClientInterceptors.intercept(server.channel(), clientFaults.clientInterceptor());
    CompletableFuture<Status> closed = new CompletableFuture<>();
    AtomicReference<ClientCallStreamObserver<EchoRequest>> requests = new AtomicReference<>();

    EchoServiceGrpc.newStub(channel)
        .echo(
            EchoRequest.newBuilder().setText("cancelled").build(),
            new ClientResponseObserver<EchoRequest, EchoResponse>() {
              @Override
              public void beforeStart(ClientCallStreamObserver<EchoRequest> requestStream) {
                requests.set(requestStream);
              }

              @Override
              public void onNext(EchoResponse value) {}

              @Override
              public void onError(Throwable t) {
                closed.complete(Status.fromThrowable(t));
              }

              @Override
              public void onCompleted() {
                closed.complete(Status.OK);
              }
            });
    requests.get().cancel("the test gives up", null);

    Status status = closed.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    assertThat(status.getCode()).isEqualTo(Status.Code.CANCELLED);
    assertThat(status.getDescription()).isEqualTo("the test gives up");
    // Delayed the same way but started later: a cancelled call started after its delay would have
    // reached the handler first.
    assertThat(echo(channel, "next").getCalls()).isEqualTo(1);
  }

  @Test
  void clientDelay_longerThanDeadline_endsAtDeadline() {
    FaultInjection clientFaults =
        FaultInjection.newBuilder().delay(ECHO, 100, Duration.ofSeconds(30)).build();
    Channel channel =
        ClientInterceptors.intercept(server.channel(), clientFaults.clientInterceptor());

    long start = System.nanoTime();
    assertThatGrpc(
            () ->
                EchoServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(200, TimeUnit.MILLISECONDS)
                    .echo(EchoRequest.newBuilder().setText("hi").build()))
        .failsWith(Status.Code.DEADLINE_EXCEEDED);

    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
  }

  // --- configuration ---

  @Test
  void fromConfig_defaults_areDisabled() {
    ChassisConfig config = ChassisConfig.of("");

    assertThat(config.raw().getBoolean("chassis.fault-injection.enabled")).isFalse();
    assertThat(config.raw().getList("chassis.fault-injection.rules")).isEmpty();
    assertThat(FaultInjection.fromConfig(config).isEnabled()).isFalse();
  }

  @Test
  void fromConfig_disabledWithRules_isPassThrough() {
    FaultInjection disabled =
        fromConfig(
            """
            enabled = false
            rules = [ { method = "*", percent = 100, abort = UNAVAILABLE } ]
            """);
    ServerCall.Listener<String> listener = new ServerCall.Listener<>() {};
    ClientCall<String, String> call = new NoopClientCall();

    assertThat(disabled.isEnabled()).isFalse();
    assertThat(
            disabled
                .serverInterceptor()
                .interceptCall(new NoopServerCall(), new Metadata(), (c, h) -> listener))
        .isSameAs(listener);
    assertThat(
            disabled
                .clientInterceptor()
                .interceptCall(Chat.CHAT, CallOptions.DEFAULT, new FixedChannel(call)))
        .isSameAs(call);
    faults = disabled;
    assertThatGrpc(() -> echo(server.channel(), "hi")).succeeds();
  }

  @Test
  void fromConfig_enabledWithRules_injectsAndWarnsOnce() {
    Logger logger = (Logger) LoggerFactory.getLogger(FaultInjection.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      faults =
          fromConfig(
              """
              enabled = true
              rules = [
                { method = "%s", percent = 100, abort = unavailable }
                { method = "test.Chat/*", percent = 100, delay = 200ms }
              ]
              """
                  .formatted(ECHO));

      assertThatGrpc(() -> echo(server.channel(), "hi")).failsWith(Status.Code.UNAVAILABLE);
      long start = System.nanoTime();
      assertThat(split(server.channel(), "ab")).containsExactly("a", "b");
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .isGreaterThanOrEqualTo(Duration.ofMillis(200));
    } finally {
      logger.detachAppender(appender);
    }
    assertThat(appender.list)
        .singleElement()
        .satisfies(
            event -> {
              assertThat(event.getLevel()).isEqualTo(Level.WARN);
              assertThat(event.getFormattedMessage())
                  .startsWith("fault injection is ON: ")
                  .contains(ECHO + ": abort UNAVAILABLE")
                  .contains("test.Chat/*: delay 200ms");
            });
  }

  static Stream<Arguments> invalidConfigs() {
    return Stream.of(
        Arguments.of("enabled = maybe", "chassis.fault-injection.enabled: "),
        Arguments.of("rules = 5", "chassis.fault-injection.rules: 5"),
        Arguments.of("rules = [ 5 ]", "chassis.fault-injection.rules[0]: 5"),
        Arguments.of(
            "rules = [ { method = \"*\", percent = 150, abort = UNAVAILABLE } ]",
            "chassis.fault-injection.rules[0].percent: 150"),
        Arguments.of(
            "rules = [ { method = \"*\", abort = UNAVAILABLE } ]",
            "chassis.fault-injection.rules[0].percent: missing"),
        Arguments.of(
            "rules = [ { method = \"*\", percent = 1, delay = 1s },"
                + " { method = \"*\", percent = 1, abort = NOPE } ]",
            "chassis.fault-injection.rules[1].abort: \"NOPE\""),
        Arguments.of(
            "rules = [ { method = \"*\", percent = 1, abort = OK } ]",
            "chassis.fault-injection.rules[0].abort: \"OK\""),
        Arguments.of(
            "rules = [ { method = \"*\", percent = 1, delay = soon } ]",
            "chassis.fault-injection.rules[0].delay: \"soon\""),
        Arguments.of(
            "rules = [ { method = \"*\", percent = 1, delay = 0s } ]",
            "chassis.fault-injection.rules[0].delay: \"0s\""),
        Arguments.of(
            "rules = [ { method = \"*\", percent = 1, delay = 2h } ]",
            "chassis.fault-injection.rules[0].delay: \"2h\""),
        Arguments.of(
            "rules = [ { method = Echo, percent = 1, abort = UNAVAILABLE } ]",
            "chassis.fault-injection.rules[0].method: \"Echo\""),
        Arguments.of(
            "rules = [ { percent = 1, abort = UNAVAILABLE } ]",
            "chassis.fault-injection.rules[0].method: missing"),
        Arguments.of(
            "rules = [ { method = \"*\", precent = 1, abort = UNAVAILABLE } ]",
            "chassis.fault-injection.rules[0].precent: 1"),
        Arguments.of(
            "rules = [ { method = \"*\", percent = 1 } ]",
            "chassis.fault-injection.rules[0].abort: missing"));
  }

  @ParameterizedTest
  @MethodSource("invalidConfigs")
  void fromConfig_invalidValue_failsNamingKey(String hocon, String message) {
    // Rules are checked while disabled too, before anyone turns them on.
    ChassisConfig config = ChassisConfig.of("chassis.fault-injection { " + hocon + " }");

    assertThatThrownBy(() -> FaultInjection.fromConfig(config))
        .isInstanceOf(ChassisConfigException.class)
        .hasMessageContaining(message)
        .hasMessageContaining("(expected: ");
  }

  @Test
  void fromConfig_sectionNotAnObject_failsNamingKey() {
    ChassisConfig config = ChassisConfig.of("chassis.fault-injection = true");

    assertThatThrownBy(() -> FaultInjection.fromConfig(config))
        .isInstanceOf(ChassisConfigException.class)
        .hasMessageStartingWith("chassis.fault-injection: true");
  }

  // --- builder ---

  @Test
  void builder_invalidArguments_failAtOnceNamingThem() {
    FaultInjection.Builder builder = FaultInjection.newBuilder();

    assertThatThrownBy(() -> builder.abort("*", 150, Status.Code.UNAVAILABLE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("percent: 150.0 (expected: 0..100)");
    assertThatThrownBy(() -> builder.delay("*", -0.5, Duration.ofMillis(1)))
        .hasMessage("percent: -0.5 (expected: 0..100)");
    assertThatThrownBy(() -> builder.delay("*", Double.NaN, Duration.ofMillis(1)))
        .hasMessage("percent: NaN (expected: 0..100)");
    assertThatThrownBy(() -> builder.abort("*", 10, Status.Code.OK))
        .hasMessageStartingWith("code: OK (expected: a status code other than OK");
    assertThatThrownBy(() -> builder.abort("EchoService", 10, Status.Code.UNAVAILABLE))
        .hasMessageStartingWith("methodPattern: EchoService (expected: \"pkg.Service/Method\"");
    assertThatThrownBy(() -> builder.abort("pkg.Service/Get*", 10, Status.Code.UNAVAILABLE))
        .hasMessageStartingWith("methodPattern: pkg.Service/Get* (expected: ");
    assertThatThrownBy(() -> builder.delay("*", 10, Duration.ZERO))
        .hasMessageStartingWith("delay: PT0S (expected: a duration > 0");
    assertThatThrownBy(() -> builder.delay("*", 10, Duration.ofMillis(-1)))
        .hasMessageStartingWith("delay: PT-0.001S (expected: ");
    assertThat(builder.build().isEnabled()).isFalse();
  }

  @Test
  void builder_rules_describeThemselves() {
    FaultInjection injection =
        FaultInjection.newBuilder()
            .delay("*", 10, Duration.ofMillis(250))
            .abort(ECHO, 5, Status.Code.UNAVAILABLE)
            .build();

    assertThat(injection.isEnabled()).isTrue();
    assertThat(injection)
        .hasToString(
            "FaultInjection[5.0% of " + ECHO + ": abort UNAVAILABLE, 10.0% of *: delay 250ms]");
    assertThat(FaultInjection.disabled()).hasToString("FaultInjection[disabled]");
  }

  @Test
  void rule_servicePattern_matchesOnlyThatService() {
    FaultRule rule = new FaultRule("pkg.Service/*", 1, null, Status.Code.UNAVAILABLE);

    assertThat(rule.matches("pkg.Service/Get")).isTrue();
    assertThat(rule.matches("pkg.ServiceX/Get")).isFalse();
    assertThat(rule.matches("pkg.Service/")).isFalse();
    assertThat(rule.matches("other.pkg.Service/Get")).isFalse();
  }

  // --- helpers ---

  private FaultInjection seededHalf() {
    return FaultInjection.newBuilder()
        .abort(ECHO, 50, Status.Code.UNAVAILABLE)
        .random(new Random(42))
        .build();
  }

  /** Makes {@code calls} sequential calls; true for each that failed. */
  private List<Boolean> outcomes(FaultInjection injection, int calls) {
    faults = injection;
    List<Boolean> failed = new ArrayList<>();
    for (int i = 0; i < calls; i++) {
      try {
        echo(server.channel(), "hi");
        failed.add(false);
      } catch (StatusRuntimeException e) {
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        failed.add(true);
      }
    }
    return failed;
  }

  private static FaultInjection fromConfig(String section) {
    return FaultInjection.fromConfig(
        ChassisConfig.of("chassis.fault-injection { " + section + " }"));
  }

  private static EchoResponse echo(Channel channel, String text) {
    return EchoServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(TIMEOUT_SECONDS, TimeUnit.SECONDS)
        .echo(EchoRequest.newBuilder().setText(text).build());
  }

  private static List<String> split(Channel channel, String text) {
    List<String> parts = new ArrayList<>();
    ClientCalls.blockingServerStreamingCall(channel, Chat.SPLIT, callOptions(), text)
        .forEachRemaining(parts::add);
    return parts;
  }

  private static CallOptions callOptions() {
    return CallOptions.DEFAULT.withDeadlineAfter(TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  /** Runs the current {@link #faults} and signals {@link #decided} once it has decided. */
  private final class SwitchableFaults implements ServerInterceptor {
    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
        ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
      try {
        return faults.serverInterceptor().interceptCall(call, headers, next);
      } finally {
        decided.release();
      }
    }
  }

  /** A string-typed service with streaming methods, built without protobuf. */
  private static final class Chat {
    static final MethodDescriptor.Marshaller<String> UTF8 =
        new MethodDescriptor.Marshaller<>() {
          @Override
          public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(UTF_8));
          }

          @Override
          public String parse(InputStream stream) {
            try {
              return new String(stream.readAllBytes(), UTF_8);
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          }
        };

    /** Echoes every message, completes when the client does. */
    static final MethodDescriptor<String, String> CHAT =
        method("Chat", MethodDescriptor.MethodType.BIDI_STREAMING);

    /** Answers one message per character of the request. */
    static final MethodDescriptor<String, String> SPLIT =
        method("Split", MethodDescriptor.MethodType.SERVER_STREAMING);

    /** A raw handler that asks for its request only later, from another thread. */
    static final MethodDescriptor<String, String> LATE_REQUEST =
        method("LateRequest", MethodDescriptor.MethodType.SERVER_STREAMING);

    private static MethodDescriptor<String, String> method(
        String name, MethodDescriptor.MethodType type) {
      return MethodDescriptor.<String, String>newBuilder()
          .setType(type)
          .setFullMethodName(MethodDescriptor.generateFullMethodName("test.Chat", name))
          .setRequestMarshaller(UTF8)
          .setResponseMarshaller(UTF8)
          .build();
    }

    static ServerServiceDefinition definition() {
      return ServerServiceDefinition.builder("test.Chat")
          .addMethod(CHAT, ServerCalls.asyncBidiStreamingCall(Chat::chat))
          .addMethod(
              SPLIT,
              ServerCalls.asyncServerStreamingCall(
                  (request, responses) -> {
                    request.chars().forEach(c -> responses.onNext(String.valueOf((char) c)));
                    responses.onCompleted();
                  }))
          .addMethod(LATE_REQUEST, Chat::lateRequest)
          .build();
    }

    private static StreamObserver<String> chat(StreamObserver<String> responses) {
      return new StreamObserver<>() {
        @Override
        public void onNext(String value) {
          responses.onNext(value);
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          responses.onCompleted();
        }
      };
    }

    private static ServerCall.Listener<String> lateRequest(
        ServerCall<String, String> call, Metadata headers) {
      call.sendHeaders(new Metadata());
      CompletableFuture.runAsync(() -> call.request(1));
      return new ServerCall.Listener<>() {
        private volatile String received = "nothing";

        @Override
        public void onMessage(String message) {
          received = message;
        }

        @Override
        public void onHalfClose() {
          call.sendMessage("got " + received);
          call.close(Status.OK, new Metadata());
        }
      };
    }
  }

  private static final class NoopServerCall extends ServerCall<String, String> {
    @Override
    public void request(int numMessages) {}

    @Override
    public void sendHeaders(Metadata headers) {}

    @Override
    public void sendMessage(String message) {}

    @Override
    public void close(Status status, Metadata trailers) {}

    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public MethodDescriptor<String, String> getMethodDescriptor() {
      return Chat.CHAT;
    }
  }

  private static final class NoopClientCall extends ClientCall<String, String> {
    @Override
    public void start(Listener<String> responseListener, Metadata headers) {}

    @Override
    public void request(int numMessages) {}

    @Override
    public void cancel(String message, Throwable cause) {}

    @Override
    public void halfClose() {}

    @Override
    public void sendMessage(String message) {}
  }

  private static final class FixedChannel extends Channel {
    private final ClientCall<?, ?> call;

    FixedChannel(ClientCall<?, ?> call) {
      this.call = call;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <ReqT, RespT> ClientCall<ReqT, RespT> newCall(
        MethodDescriptor<ReqT, RespT> method, CallOptions callOptions) {
      return (ClientCall<ReqT, RespT>) call;
    }

    @Override
    public String authority() {
      return "fixed";
    }
  }
}
