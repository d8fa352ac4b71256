package dev.chassis.testing;

import io.grpc.Attributes;
import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * A client call that starts after a fault delay, without blocking the caller: what the caller does
 * meanwhile ({@code start}, {@code request}, {@code sendMessage}, ...) is recorded and replayed in
 * order on the real call when the delay ends, then calls pass straight through. With an abort
 * status it never creates a real call and closes the listener with the status instead.
 *
 * <p>The delay ends early at the call's deadline (the real call then fails with {@code
 * DEADLINE_EXCEEDED} as it would have). {@code cancel} during the delay closes the listener with
 * {@code CANCELLED} at once and nothing reaches the network.
 */
final class FaultDelayedClientCall<ReqT, RespT> extends ClientCall<ReqT, RespT> {
  private final @Nullable ClientCall<ReqT, RespT> real;
  private final @Nullable Status abort;
  private final long delayNanos;
  private final @Nullable Deadline deadline;
  private final Executor callbackExecutor;
  private final Context context;
  private final Object lock = new Object();

  // Guarded by lock.
  private @Nullable Listener<RespT> listener;
  private List<Runnable> pending = new ArrayList<>();
  // The delay ended and the real call is being (or has been) started.
  private boolean released;
  // Everything recorded has been replayed: operations go straight to the real call.
  private boolean passThrough;
  // We closed (or will close) the listener ourselves; operations are dropped.
  private @Nullable Status closedWith;
  private @Nullable ScheduledFuture<?> timer;

  /**
   * Either {@code real} (started after the delay) or {@code abort} (the status to close with after
   * the delay) is set. {@code deadline} is the earlier of the call's and the context's, if any;
   * {@code callbackExecutor} runs the listener callbacks of closes this class makes itself.
   */
  FaultDelayedClientCall(
      @Nullable ClientCall<ReqT, RespT> real,
      @Nullable Status abort,
      long delayNanos,
      @Nullable Deadline deadline,
      Executor callbackExecutor,
      Context context) {
    if ((real == null) == (abort == null)) {
      throw new IllegalArgumentException("exactly one of real and abort");
    }
    this.real = real;
    this.abort = abort;
    this.delayNanos = delayNanos;
    this.deadline = deadline;
    this.callbackExecutor = callbackExecutor;
    this.context = context;
  }

  @Override
  public void start(Listener<RespT> responseListener, Metadata headers) {
    Status closed;
    synchronized (lock) {
      if (listener != null) {
        throw new IllegalStateException("already started");
      }
      listener = responseListener;
      closed = closedWith;
      ClientCall<ReqT, RespT> call = real;
      if (closed == null && call != null) {
        pending.add(() -> call.start(responseListener, headers));
      }
    }
    if (closed != null) {
      // Cancelled before start.
      notifyClosed(responseListener, closed);
      return;
    }
    long nanos = delayNanos;
    if (deadline != null) {
      nanos = Math.min(nanos, Math.max(0, deadline.timeRemaining(TimeUnit.NANOSECONDS)));
    }
    ScheduledFuture<?> scheduled = FaultTimer.schedule(this::delayElapsed, nanos);
    synchronized (lock) {
      if (closedWith != null) {
        scheduled.cancel(false);
      } else if (!released) {
        timer = scheduled;
      }
    }
  }

  /** On the timer thread. */
  private void delayElapsed() {
    Status fail = null;
    Listener<RespT> target;
    synchronized (lock) {
      if (closedWith != null || released) {
        return;
      }
      timer = null;
      target = listener;
      if (abort != null) {
        fail =
            deadline != null && deadline.isExpired()
                ? Status.DEADLINE_EXCEEDED.withDescription(
                    "deadline exceeded during a fault-injection delay")
                : abort;
        closedWith = fail;
      } else {
        released = true;
      }
    }
    if (fail != null) {
      if (target != null) {
        notifyClosed(target, fail);
      }
      return;
    }
    Context previous = context.attach();
    try {
      replay();
    } finally {
      context.detach(previous);
    }
  }

  private void replay() {
    while (true) {
      List<Runnable> batch;
      synchronized (lock) {
        if (pending.isEmpty()) {
          passThrough = true;
          return;
        }
        batch = pending;
        pending = new ArrayList<>();
      }
      for (Runnable operation : batch) {
        operation.run();
      }
    }
  }

  @Override
  public void request(int numMessages) {
    ClientCall<ReqT, RespT> call = real;
    if (call != null) {
      run(() -> call.request(numMessages));
    }
  }

  @Override
  public void sendMessage(ReqT message) {
    ClientCall<ReqT, RespT> call = real;
    if (call != null) {
      run(() -> call.sendMessage(message));
    }
  }

  @Override
  public void halfClose() {
    ClientCall<ReqT, RespT> call = real;
    if (call != null) {
      run(call::halfClose);
    }
  }

  @Override
  public void setMessageCompression(boolean enabled) {
    ClientCall<ReqT, RespT> call = real;
    if (call != null) {
      run(() -> call.setMessageCompression(enabled));
    }
  }

  @Override
  public void cancel(@Nullable String message, @Nullable Throwable cause) {
    ClientCall<ReqT, RespT> call = real;
    Status status =
        Status.CANCELLED
            .withDescription(message != null ? message : "call cancelled")
            .withCause(cause);
    Listener<RespT> target = null;
    boolean forward = false;
    synchronized (lock) {
      if (closedWith != null) {
        return;
      }
      if (released && call != null) {
        // The real call is being started: it cancels itself, after the replay if still running.
        if (!passThrough) {
          pending.add(() -> call.cancel(message, cause));
          return;
        }
        forward = true;
      } else {
        closedWith = status;
        pending.clear();
        if (timer != null) {
          timer.cancel(false);
          timer = null;
        }
        target = listener;
      }
    }
    if (forward && call != null) {
      call.cancel(message, cause);
    } else if (target != null) {
      notifyClosed(target, status);
    }
  }

  @Override
  public boolean isReady() {
    ClientCall<ReqT, RespT> call = real;
    synchronized (lock) {
      if (!passThrough || call == null) {
        return false;
      }
    }
    return call.isReady();
  }

  @Override
  public Attributes getAttributes() {
    ClientCall<ReqT, RespT> call = real;
    synchronized (lock) {
      if (!passThrough || call == null) {
        return Attributes.EMPTY;
      }
    }
    return call.getAttributes();
  }

  /** Runs {@code operation} on the real call now, or records it until the delay has ended. */
  private void run(Runnable operation) {
    synchronized (lock) {
      if (closedWith != null) {
        return;
      }
      if (!passThrough) {
        pending.add(operation);
        return;
      }
    }
    operation.run();
  }

  private void notifyClosed(Listener<RespT> target, Status status) {
    callbackExecutor.execute(context.wrap(() -> target.onClose(status, new Metadata())));
  }
}
