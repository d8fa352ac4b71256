package dev.chassis.testsupport;

import dev.chassis.errors.InvalidArgumentException;
import dev.chassis.errors.NotFoundException;
import dev.chassis.errors.UnavailableException;
import dev.chassis.test.v1.TestRequest;
import dev.chassis.test.v1.TestResponse;
import dev.chassis.test.v1.TestServiceGrpc;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/** A handler whose behaviour each request picks by {@code action}. */
public final class TestServiceImpl extends TestServiceGrpc.TestServiceImplBase {
  /** Text an unexpected exception carries that must never reach a client. */
  public static final String SECRET = "SELECT password FROM users -- at com.acme.Db.query";

  private static final org.slf4j.Logger logger =
      org.slf4j.LoggerFactory.getLogger(TestServiceImpl.class);

  private final String name;
  private final @Nullable Channel downstream;
  private final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();

  public TestServiceImpl() {
    this("test");
  }

  public TestServiceImpl(String name) {
    this(name, null);
  }

  /**
   * A service whose {@code proxy} actions call {@code downstream} with the payload as action, with
   * a 1 s deadline (so a downstream "sleep", 3 s, ends in DEADLINE_EXCEEDED).
   */
  public TestServiceImpl(String name, @Nullable Channel downstream) {
    this.name = name;
    this.downstream = downstream;
  }

  /** How many times {@code fail-then-ok} was called with this payload. */
  public int attempts(String payload) {
    AtomicInteger count = attempts.get(payload);
    return count == null ? 0 : count.get();
  }

  @Override
  public void unary(TestRequest request, StreamObserver<TestResponse> response) {
    switch (request.getAction()) {
      case "ok" -> reply(response, name);
      case "not-found" -> throw new NotFoundException("thing", request.getPayload());
      case "invalid" ->
          throw InvalidArgumentException.newBuilder()
              .addViolation("name", "must not be empty")
              .addViolation("email", "must be a valid email address")
              .build();
      case "unavailable" ->
          throw new UnavailableException(
              "database is down", Duration.ofSeconds(2), new IllegalStateException(SECRET));
      case "status" -> throw Status.PERMISSION_DENIED.withDescription("nope").asRuntimeException();
      case "boom" -> throw new IllegalStateException(SECRET);
      case "on-error-boom" -> response.onError(new IllegalStateException(SECRET));
      case "on-error-not-found" -> response.onError(new NotFoundException("thing", "7"));
      case "on-error-unavailable-cause" ->
          response.onError(
              new UnavailableException("database is down", new IllegalStateException(SECRET)));
      case "proxy" -> reply(response, callDownstream(request.getPayload()));
      case "proxy-default" -> {
        // No deadline of its own: the channel's default and the inherited budget apply.
        if (downstream == null) {
          throw new IllegalStateException("no downstream channel");
        }
        reply(
            response,
            TestServiceGrpc.newBlockingStub(downstream)
                .unary(TestRequest.newBuilder().setAction(request.getPayload()).build())
                .getMessage());
      }
      case "proxy-on-error" -> {
        try {
          reply(response, callDownstream(request.getPayload()));
        } catch (StatusRuntimeException e) {
          response.onError(new IllegalStateException("downstream failed", e));
        }
      }
      case "sleep" -> {
        pause(request.getDelayMs());
        reply(response, name);
      }
      case "deadline" -> {
        // The deadline this handler runs under, in ms, or "none".
        io.grpc.Deadline deadline = io.grpc.Context.current().getDeadline();
        reply(
            response,
            deadline == null
                ? "none"
                : String.valueOf(
                    deadline.timeRemaining(java.util.concurrent.TimeUnit.MILLISECONDS)));
      }
      case "fail-then-ok" -> {
        int attempt =
            attempts
                .computeIfAbsent(request.getPayload(), k -> new AtomicInteger())
                .incrementAndGet();
        if (attempt <= request.getCount()) {
          response.onError(Status.UNAVAILABLE.withDescription("try again").asRuntimeException());
        } else {
          reply(response, "attempt " + attempt);
        }
      }
      default -> throw new IllegalArgumentException("unknown action " + request.getAction());
    }
  }

  @Override
  public void serverStream(TestRequest request, StreamObserver<TestResponse> response) {
    if (request.getAction().equals("fail-stream")) {
      response.onNext(TestResponse.newBuilder().setMessage(name).build());
      response.onError(Status.UNAVAILABLE.withDescription("stream broke").asRuntimeException());
      return;
    }
    for (int i = 0; i < request.getCount(); i++) {
      pause(request.getDelayMs());
      response.onNext(TestResponse.newBuilder().setMessage(name).setIndex(i).build());
    }
    response.onCompleted();
  }

  @Override
  public StreamObserver<TestRequest> bidiStream(StreamObserver<TestResponse> response) {
    AtomicInteger index = new AtomicInteger();
    return new StreamObserver<>() {
      @Override
      public void onNext(TestRequest request) {
        if (request.getAction().equals("boom")) {
          throw new IllegalStateException(SECRET);
        }
        logger.debug("echo {}", request.getPayload());
        response.onNext(
            TestResponse.newBuilder()
                .setMessage(request.getPayload())
                .setIndex(index.getAndIncrement())
                .build());
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {
        response.onCompleted();
      }
    };
  }

  private String callDownstream(String action) {
    if (downstream == null) {
      throw new IllegalStateException("no downstream channel");
    }
    return TestServiceGrpc.newBlockingStub(downstream)
        .withDeadlineAfter(1, java.util.concurrent.TimeUnit.SECONDS)
        .unary(TestRequest.newBuilder().setAction(action).setDelayMs(3000).build())
        .getMessage();
  }

  private static void reply(StreamObserver<TestResponse> response, String message) {
    response.onNext(TestResponse.newBuilder().setMessage(message).build());
    response.onCompleted();
  }

  /** Simulated work inside a handler (not test synchronisation). */
  private static void pause(int millis) {
    if (millis <= 0) {
      return;
    }
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
    }
  }
}
