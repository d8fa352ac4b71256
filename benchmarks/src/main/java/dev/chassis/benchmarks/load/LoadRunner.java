package dev.chassis.benchmarks.load;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * Drives a {@link CallTarget} in a closed model (a fixed number of workers, each with one call in
 * flight, sending the next as soon as the last ended) or an open model (calls started at a fixed
 * rate whatever the server does, latency from each call's intended start, as {@code
 * OpenLoopLoadGenerator} does: no coordinated omission).
 *
 * <p>Calls started during the warm-up are not recorded. The measured part ends after a duration
 * (calls started before its end are recorded however late they end) or after a number of calls.
 */
final class LoadRunner {
  /** Latencies up to a minute, three significant digits, in microseconds. */
  static final long HIGHEST_MICROS = TimeUnit.MINUTES.toMicros(1);

  /** Completions chained on one thread deeper than this go to another thread. */
  private static final int MAX_INLINE_DEPTH = 32;

  private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);

  private final CallTarget target;
  private final Duration warmup;
  private final Duration duration;
  private final long calls;
  private final Duration timeout;

  /**
   * @param duration the measured window; used when {@code calls} is 0
   * @param calls measured calls to make; 0: run for {@code duration}
   * @param timeout each call's timeout, used to bound the wait for the last calls
   */
  LoadRunner(CallTarget target, Duration warmup, Duration duration, long calls, Duration timeout) {
    this.target = target;
    this.warmup = warmup;
    this.duration = duration;
    this.calls = calls;
    this.timeout = timeout;
  }

  /** Records measured outcomes. */
  private static final class Recorder {
    final ConcurrentHistogram latency = new ConcurrentHistogram(HIGHEST_MICROS, 3);
    final Map<String, LongAdder> codes = new ConcurrentHashMap<>();
    final LongAdder ok = new LongAdder();
    final LongAdder messages = new LongAdder();
    final LongAdder ended = new LongAdder();
    final AtomicLong lastEnd = new AtomicLong(Long.MIN_VALUE);

    void record(long fromNanos, String code, boolean success, int received) {
      long now = System.nanoTime();
      if (success) {
        ok.increment();
        latency.recordValue(Math.min(HIGHEST_MICROS, Math.max(0, (now - fromNanos) / 1000)));
      }
      codes.computeIfAbsent(code, c -> new LongAdder()).increment();
      messages.add(received);
      ended.increment();
      lastEnd.accumulateAndGet(now, Math::max);
    }

    Map<String, Long> codeCounts() {
      Map<String, Long> counts = new TreeMap<>();
      codes.forEach((code, count) -> counts.put(code, count.sum()));
      return counts;
    }
  }

  /** Runs {@code concurrency} workers and returns the measured outcome. */
  LoadResult runClosed(int concurrency) throws InterruptedException {
    Recorder recorder = new Recorder();
    long start = System.nanoTime();
    long measureStart = start + warmup.toNanos();
    long measureEnd = calls > 0 ? Long.MAX_VALUE : measureStart + duration.toNanos();
    AtomicLong sequence = new AtomicLong();
    AtomicLong measuredStarted = new AtomicLong();
    AtomicLong started = new AtomicLong();
    CountDownLatch finished = new CountDownLatch(concurrency);
    ExecutorService overflow =
        Executors.newCachedThreadPool(
            runnable -> {
              Thread thread = new Thread(runnable, "load-worker");
              thread.setDaemon(true);
              return thread;
            });
    try {
      for (int i = 0; i < concurrency; i++) {
        Worker worker =
            new Worker(
                i,
                recorder,
                measureStart,
                measureEnd,
                sequence,
                measuredStarted,
                started,
                finished,
                overflow);
        overflow.execute(worker::next);
      }
      long waitNanos =
          calls > 0
              ? Long.MAX_VALUE
              : (measureEnd - System.nanoTime()) + timeout.toNanos() + TimeUnit.SECONDS.toNanos(5);
      finished.await(Math.max(0, waitNanos), TimeUnit.NANOSECONDS);
      double seconds =
          calls > 0
              ? Math.max(0, recorder.lastEnd.get() - measureStart) / 1e9
              : duration.toNanos() / 1e9;
      long measured = measuredStarted.get();
      if (calls > 0) {
        measured = Math.min(measured, calls);
      }
      return new LoadResult(
          "closed",
          target.describe(),
          concurrency,
          0,
          seconds,
          recorder.codeCounts(),
          recorder.ok.sum(),
          recorder.messages.sum(),
          recorder.latency.copy(),
          0,
          Math.max(0, measured - recorder.ended.sum()),
          null);
    } finally {
      overflow.shutdownNow();
    }
  }

  /** One closed-model worker: one call in flight, the next sent when it ends. */
  private final class Worker {
    private final int index;
    private final Recorder recorder;
    private final long measureStart;
    private final long measureEnd;
    private final AtomicLong sequence;
    private final AtomicLong measuredStarted;
    private final AtomicLong started;
    private final CountDownLatch finished;
    private final ExecutorService overflow;

    Worker(
        int index,
        Recorder recorder,
        long measureStart,
        long measureEnd,
        AtomicLong sequence,
        AtomicLong measuredStarted,
        AtomicLong started,
        CountDownLatch finished,
        ExecutorService overflow) {
      this.index = index;
      this.recorder = recorder;
      this.measureStart = measureStart;
      this.measureEnd = measureEnd;
      this.sequence = sequence;
      this.measuredStarted = measuredStarted;
      this.started = started;
      this.finished = finished;
      this.overflow = overflow;
    }

    void next() {
      long now = System.nanoTime();
      boolean measured = now >= measureStart;
      if (now >= measureEnd || (measured && calls > 0 && measuredStarted.get() >= calls)) {
        finished.countDown();
        return;
      }
      if (measured && measuredStarted.incrementAndGet() > calls && calls > 0) {
        finished.countDown();
        return;
      }
      started.incrementAndGet();
      long sendNanos = System.nanoTime();
      target.start(
          sequence.getAndIncrement(),
          index,
          (code, ok, messages) -> {
            if (measured) {
              recorder.record(sendNanos, code, ok, messages);
            }
            continueLater();
          });
    }

    /** Starts the next call, on this thread unless completions nest too deep on it. */
    private void continueLater() {
      int[] depth = DEPTH.get();
      if (depth[0] >= MAX_INLINE_DEPTH) {
        try {
          overflow.execute(this::next);
        } catch (java.util.concurrent.RejectedExecutionException e) {
          finished.countDown();
        }
        return;
      }
      depth[0]++;
      try {
        next();
      } finally {
        depth[0]--;
      }
    }
  }

  /**
   * Starts calls at {@code ratePerSecond} from the calling thread, at most {@code maxOutstanding}
   * in flight, then waits up to the timeout plus five seconds for the outstanding ones.
   */
  LoadResult runOpen(double ratePerSecond, int maxOutstanding) throws InterruptedException {
    Recorder recorder = new Recorder();
    Histogram sendLag = new Histogram(HIGHEST_MICROS, 3);
    AtomicInteger outstanding = new AtomicInteger();
    long sent = 0;
    long notSent = 0;
    long measuredIntended = 0;
    long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
    long measureStart = start + warmup.toNanos();
    long measureEnd = calls > 0 ? Long.MAX_VALUE : measureStart + duration.toNanos();
    double periodNanos = 1e9 / ratePerSecond;
    for (long i = 0; ; i++) {
      long intended = start + (long) (i * periodNanos);
      if (intended >= measureEnd || (calls > 0 && measuredIntended >= calls)) {
        break;
      }
      long now;
      while ((now = System.nanoTime()) < intended) {
        LockSupport.parkNanos(intended - now);
      }
      // Behind schedule? Every overdue call goes at once; latency still counts from its intended
      // time.
      boolean measured = intended >= measureStart;
      if (measured) {
        measuredIntended++;
      }
      if (outstanding.get() >= maxOutstanding) {
        if (measured) {
          notSent++;
        }
        continue;
      }
      outstanding.incrementAndGet();
      if (measured) {
        sent++;
        sendLag.recordValue(Math.min(HIGHEST_MICROS, (now - intended) / 1000));
      }
      long from = intended;
      target.start(
          i,
          (int) i,
          (code, ok, messages) -> {
            if (measured) {
              recorder.record(from, code, ok, messages);
            }
            outstanding.decrementAndGet();
          });
    }
    long windowEnd = calls > 0 ? System.nanoTime() : measureEnd;
    long waitUntil = System.nanoTime() + timeout.toNanos() + TimeUnit.SECONDS.toNanos(5);
    while (outstanding.get() > 0 && System.nanoTime() < waitUntil) {
      TimeUnit.MILLISECONDS.sleep(5);
    }
    return new LoadResult(
        "open",
        target.describe(),
        0,
        ratePerSecond,
        (windowEnd - measureStart) / 1e9,
        recorder.codeCounts(),
        recorder.ok.sum(),
        recorder.messages.sum(),
        recorder.latency.copy(),
        notSent,
        Math.max(0, sent - recorder.ended.sum()),
        sendLag);
  }
}
