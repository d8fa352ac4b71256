package dev.chassis.testsupport;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Records what a call delivered and how it ended, for chassis-core's own tests (chassis-testing's
 * RecordingStreamObserver is out of reach here: chassis-testing depends on chassis-core).
 */
public class StreamRecorder<T> implements StreamObserver<T> {
  public final List<T> received = new CopyOnWriteArrayList<>();

  /** The final status code: OK on completion, else the error's. */
  public final CompletableFuture<Status.Code> done = new CompletableFuture<>();

  /** The error the call ended with, if any; set before {@link #done} completes. */
  public volatile Throwable error;

  @Override
  public void onNext(T value) {
    received.add(value);
  }

  @Override
  public void onError(Throwable t) {
    error = t;
    done.complete(Status.fromThrowable(t).getCode());
  }

  @Override
  public void onCompleted() {
    done.complete(Status.Code.OK);
  }
}
