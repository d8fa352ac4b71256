package dev.chassis.testing;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.Status;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.ScheduledFuture;
import org.jspecify.annotations.Nullable;

/**
 * Holds a unary or server-streaming call for its fault delay without holding a thread, then starts
 * the handler (or aborts the call) from inside a grpc callback, so the interceptors around fault
 * injection (logging context, tracing, exception mapping) wrap the handler as usual.
 *
 * <p>How: the timer ends the delay by requesting the call's one request message. grpc delivers it
 * on the handler executor through the outer listeners; that callback starts the handler and keeps
 * the message until the handler asks for one (stub handlers ask inside {@code startCall}).
 * Callbacks arriving meanwhile are queued and delivered in arrival order, never concurrently; only
 * {@code onReady} may overtake a message the handler has not asked for yet. A call cancelled during
 * the delay never reaches the handler.
 */
final class FaultDelayedServerListener<ReqT, RespT> extends ServerCall.Listener<ReqT> {
  private enum Phase {
    /** The delay runs. */
    WAITING,
    /** The delay ended; the request message was requested and the next callback proceeds. */
    TRIGGERED,
    /** The handler runs; callbacks go to it through the queue. */
    STARTED,
    /** Aborted, cancelled during the delay, or the handler failed to start: callbacks dropped. */
    DONE
  }

  private enum Kind {
    MESSAGE,
    HALF_CLOSE,
    READY,
    CANCEL,
    COMPLETE
  }

  private record Event<T>(Kind kind, @Nullable T message) {}

  private final ServerCall<ReqT, RespT> call;
  private final Metadata headers;
  private final ServerCallHandler<ReqT, RespT> next;
  private final @Nullable Status abort;
  private final Object lock = new Object();

  // Guarded by lock.
  private Phase phase = Phase.WAITING;
  private @Nullable ScheduledFuture<?> timer;
  private boolean readyPending;
  private final ArrayDeque<Event<ReqT>> queue = new ArrayDeque<>();
  // The queue holds the request message and the handler has not asked for it yet.
  private boolean holding;
  // A thread is delivering the queue (or the handler is being started); others only enqueue.
  private boolean draining;
  private ServerCall.@Nullable Listener<ReqT> delegate;

  private FaultDelayedServerListener(
      ServerCall<ReqT, RespT> call,
      Metadata headers,
      ServerCallHandler<ReqT, RespT> next,
      @Nullable Status abort) {
    this.call = call;
    this.headers = headers;
    this.next = next;
    this.abort = abort;
  }

  /**
   * Returns the listener for {@code call} and starts its delay; after it the handler starts, or the
   * call is closed with {@code abort} when that is set.
   */
  static <ReqT, RespT> ServerCall.Listener<ReqT> delay(
      ServerCall<ReqT, RespT> call,
      Metadata headers,
      ServerCallHandler<ReqT, RespT> next,
      long delayNanos,
      @Nullable Status abort) {
    FaultDelayedServerListener<ReqT, RespT> listener =
        new FaultDelayedServerListener<>(call, headers, next, abort);
    ScheduledFuture<?> timer = FaultTimer.schedule(listener::delayElapsed, delayNanos);
    synchronized (listener.lock) {
      if (listener.phase == Phase.WAITING) {
        listener.timer = timer;
      } else if (listener.phase == Phase.DONE) {
        timer.cancel(false);
      }
    }
    return listener;
  }

  /** On the timer thread. */
  private void delayElapsed() {
    synchronized (lock) {
      if (phase != Phase.WAITING) {
        return;
      }
      phase = Phase.TRIGGERED;
      timer = null;
    }
    // ServerCall.request may be called from any thread, and nothing else uses the call yet.
    call.request(1);
  }

  @Override
  public void onMessage(ReqT message) {
    if (endDelay()) {
      proceed(message, true, false);
    } else {
      enqueue(Kind.MESSAGE, message);
    }
  }

  @Override
  public void onHalfClose() {
    // Before a message only when the client broke the protocol (no request); the handler says so.
    if (endDelay()) {
      proceed(null, false, true);
    } else {
      enqueue(Kind.HALF_CLOSE, null);
    }
  }

  @Override
  public void onReady() {
    synchronized (lock) {
      if (phase == Phase.WAITING || phase == Phase.TRIGGERED) {
        readyPending = true;
        return;
      }
    }
    enqueue(Kind.READY, null);
  }

  @Override
  public void onCancel() {
    synchronized (lock) {
      if (phase == Phase.WAITING || phase == Phase.TRIGGERED) {
        // The client gave up (or its deadline passed) during the delay: the handler never runs.
        cancelTimer();
        phase = Phase.DONE;
        return;
      }
    }
    enqueue(Kind.CANCEL, null);
  }

  @Override
  public void onComplete() {
    enqueue(Kind.COMPLETE, null);
  }

  /** Whether this callback ends the delay, in which case the caller proceeds. */
  private boolean endDelay() {
    synchronized (lock) {
      if (phase != Phase.WAITING && phase != Phase.TRIGGERED) {
        return false;
      }
      cancelTimer();
      if (abort != null) {
        phase = Phase.DONE;
      } else {
        phase = Phase.STARTED;
        draining = true; // until the handler has started, everything else only enqueues
      }
      return true;
    }
  }

  private void proceed(@Nullable ReqT message, boolean hasMessage, boolean halfClosed) {
    if (abort != null) {
      call.close(abort, new Metadata());
      return;
    }
    synchronized (lock) {
      if (readyPending) {
        queue.add(new Event<>(Kind.READY, null));
      }
      if (hasMessage) {
        queue.add(new Event<>(Kind.MESSAGE, message));
        holding = true;
      }
      if (halfClosed) {
        queue.add(new Event<>(Kind.HALF_CLOSE, null));
      }
    }
    ServerCall.Listener<ReqT> started;
    try {
      started = next.startCall(new FlowControlledCall(), headers);
    } catch (RuntimeException | Error e) {
      // Propagates to the outer interceptors (exception mapping closes the call).
      synchronized (lock) {
        phase = Phase.DONE;
        queue.clear();
        holding = false;
        draining = false;
      }
      throw e;
    }
    synchronized (lock) {
      delegate = started;
    }
    drain();
  }

  private void enqueue(Kind kind, @Nullable ReqT message) {
    synchronized (lock) {
      if (phase != Phase.STARTED) {
        return;
      }
      if (kind == Kind.CANCEL || kind == Kind.COMPLETE) {
        // As in grpc: once the call is over, undelivered messages and half-close are dropped.
        queue.removeIf(e -> e.kind() == Kind.MESSAGE || e.kind() == Kind.HALF_CLOSE);
        holding = false;
      }
      queue.add(new Event<>(kind, message));
      if (draining) {
        return;
      }
      draining = true;
    }
    drain();
  }

  /** The handler asked for {@code numMessages}; the first may be the one we hold. */
  private void handlerRequested(int numMessages) {
    boolean tookHeld = false;
    boolean drainNow = false;
    synchronized (lock) {
      if (holding && numMessages > 0) {
        holding = false;
        tookHeld = true;
        if (!draining) {
          // A late request from the handler's own thread: deliver here, still one at a time.
          draining = true;
          drainNow = true;
        }
      }
    }
    if (!tookHeld) {
      call.request(numMessages);
    } else if (numMessages > 1) {
      call.request(numMessages - 1);
    }
    if (drainNow) {
      drain();
    }
  }

  /** Delivers queued callbacks one at a time until none is deliverable; needs draining = true. */
  private void drain() {
    while (true) {
      Event<ReqT> event;
      ServerCall.Listener<ReqT> target;
      synchronized (lock) {
        event = nextDeliverable();
        if (event == null || delegate == null) {
          draining = false;
          return;
        }
        target = delegate;
      }
      try {
        deliver(target, event);
      } catch (RuntimeException | Error e) {
        // Whatever is left is delivered with the next callback; the error goes to the caller
        // (normally grpc's callback thread, through the exception-mapping interceptor).
        synchronized (lock) {
          draining = false;
        }
        throw e;
      }
    }
  }

  private @Nullable Event<ReqT> nextDeliverable() {
    Event<ReqT> head = queue.peek();
    if (head == null) {
      return null;
    }
    if (!holding || head.kind() != Kind.MESSAGE) {
      return queue.poll();
    }
    // The handler has not asked for the request message yet; only onReady may overtake it.
    for (Iterator<Event<ReqT>> it = queue.iterator(); it.hasNext(); ) {
      Event<ReqT> event = it.next();
      if (event.kind() == Kind.READY) {
        it.remove();
        return event;
      }
    }
    return null;
  }

  private static <T> void deliver(ServerCall.Listener<T> target, Event<T> event) {
    switch (event.kind()) {
      case MESSAGE -> target.onMessage(event.message());
      case HALF_CLOSE -> target.onHalfClose();
      case READY -> target.onReady();
      case CANCEL -> target.onCancel();
      case COMPLETE -> target.onComplete();
    }
  }

  private void cancelTimer() {
    ScheduledFuture<?> current = timer;
    if (current != null) {
      current.cancel(false);
      timer = null;
    }
  }

  /** The call as the handler sees it: its requests first take the message held for it. */
  private final class FlowControlledCall extends SimpleForwardingServerCall<ReqT, RespT> {
    FlowControlledCall() {
      super(call);
    }

    @Override
    public void request(int numMessages) {
      handlerRequested(numMessages);
    }
  }
}
