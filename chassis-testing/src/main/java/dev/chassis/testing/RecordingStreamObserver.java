package dev.chassis.testing;

import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * Records what a streaming call delivers, for tests. Pass it where a stub wants a response
 * observer; optionally it takes messages only when the test {@linkplain #request asks}, to test a
 * server's flow control.
 *
 * <pre>{@code
 * RecordingStreamObserver<User> users = RecordingStreamObserver.withManualFlowControl(1);
 * UserServiceGrpc.newStub(channel).listUsers(request, users);
 * await().until(() -> users.values().size() == 1);
 * users.request(Integer.MAX_VALUE);
 * assertThat(users.awaitCompletion(Duration.ofSeconds(10)).getCode()).isEqualTo(Status.Code.OK);
 * }</pre>
 *
 * <p>Thread-safe.
 *
 * @param <T> the response message type
 */
public final class RecordingStreamObserver<T> implements ClientResponseObserver<Object, T> {
  private final List<T> values = new CopyOnWriteArrayList<>();
  private final CompletableFuture<Status> completion = new CompletableFuture<>();
  private final int initialRequest;
  private volatile @Nullable ClientCallStreamObserver<Object> call;

  private RecordingStreamObserver(int initialRequest) {
    this.initialRequest = initialRequest;
  }

  /** Takes every message as it arrives (grpc's automatic flow control). */
  public static <T> RecordingStreamObserver<T> create() {
    return new RecordingStreamObserver<>(-1);
  }

  /** Takes {@code initialRequest} messages, then only as many as {@link #request} asks for. */
  public static <T> RecordingStreamObserver<T> withManualFlowControl(int initialRequest) {
    if (initialRequest < 0) {
      throw new IllegalArgumentException("initialRequest: " + initialRequest + " (expected: >= 0)");
    }
    return new RecordingStreamObserver<>(initialRequest);
  }

  @Override
  public void beforeStart(ClientCallStreamObserver<Object> requestStream) {
    if (initialRequest >= 0) {
      requestStream.disableAutoRequestWithInitial(initialRequest);
    }
    call = requestStream;
  }

  /** Asks for {@code count} more messages (manual flow control only). */
  public void request(int count) {
    ClientCallStreamObserver<Object> current = call;
    if (current == null || initialRequest < 0) {
      throw new IllegalStateException("request() needs withManualFlowControl and a started call");
    }
    current.request(count);
  }

  /** The messages received so far, in order. */
  public List<T> values() {
    return List.copyOf(values);
  }

  /** Whether the call has ended, successfully or not. */
  public boolean isDone() {
    return completion.isDone();
  }

  /**
   * Waits for the call to end and returns its status: {@code OK} on completion, else the error's.
   *
   * @throws AssertionError when it has not ended within {@code timeout}
   */
  public Status awaitCompletion(Duration timeout) throws InterruptedException {
    try {
      return completion.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError(
          "the call did not end within " + timeout + "; received " + values.size(), e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void onNext(T value) {
    values.add(value);
  }

  @Override
  public void onError(Throwable t) {
    completion.complete(Status.fromThrowable(t));
  }

  @Override
  public void onCompleted() {
    completion.complete(Status.OK);
  }
}
