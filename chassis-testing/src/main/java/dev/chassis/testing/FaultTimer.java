package dev.chassis.testing;

import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The threads of fault injection, shared by every {@link FaultInjection} and created on first use
 * (a disabled injection never loads this class): one daemon timer thread that ends delays, and a
 * cached daemon pool for client listener callbacks when a call has no executor of its own.
 *
 * <p>Timer tasks only do non-blocking grpc operations ({@code request}, {@code start}, ...).
 */
final class FaultTimer {
  private static final Logger logger = LoggerFactory.getLogger(FaultTimer.class);

  private static final ScheduledThreadPoolExecutor TIMER = newTimer();
  private static final ExecutorService CALLBACKS = newCallbackPool();

  private FaultTimer() {}

  /** Runs {@code task} on the timer thread after {@code delayNanos}; failures are logged. */
  static ScheduledFuture<?> schedule(Runnable task, long delayNanos) {
    return TIMER.schedule(
        () -> {
          try {
            task.run();
          } catch (RuntimeException e) {
            logger.warn("fault injection: a delayed task failed", e);
          }
        },
        delayNanos,
        TimeUnit.NANOSECONDS);
  }

  /** Runs client listener callbacks for calls whose {@code CallOptions} carry no executor. */
  static Executor callbacks() {
    return CALLBACKS;
  }

  private static ScheduledThreadPoolExecutor newTimer() {
    ScheduledThreadPoolExecutor timer =
        new ScheduledThreadPoolExecutor(1, daemon("chassis-fault-injection-timer", false));
    // Calls cancelled during their delay must not keep their timers (and calls) in the queue.
    timer.setRemoveOnCancelPolicy(true);
    return timer;
  }

  private static ExecutorService newCallbackPool() {
    return new ThreadPoolExecutor(
        0,
        Integer.MAX_VALUE,
        30,
        TimeUnit.SECONDS,
        new SynchronousQueue<>(),
        daemon("chassis-fault-injection-", true));
  }

  private static ThreadFactory daemon(String name, boolean numbered) {
    AtomicInteger count = new AtomicInteger();
    return task -> {
      Thread thread = new Thread(task, numbered ? name + count.incrementAndGet() : name);
      thread.setDaemon(true);
      return thread;
    };
  }
}
