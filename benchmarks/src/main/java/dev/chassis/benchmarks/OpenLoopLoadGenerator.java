package dev.chassis.benchmarks;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * An open-model load generator: it starts calls at a fixed rate whatever the server does, the way
 * independent users arrive, instead of waiting for one call to finish before sending the next (a
 * closed model, which slows down with the server and so hides its overload).
 *
 * <p>Call {@code i} has an <em>intended</em> start time {@code t0 + i / rate}. Latency is measured
 * from that time, not from when the generator got round to sending it, so a stalled generator makes
 * latency look worse, never better (no coordinated omission). How late sends were is reported
 * separately ({@link Result#sendLagMicros()}) so a run whose generator could not keep up can be
 * recognised.
 *
 * <p>Each call carries a deadline, counted from its actual send, as a real client would. Calls
 * whose intended start falls in the warm-up are sent but not recorded; calls whose intended start
 * falls in the measurement window are recorded however late they complete. Outstanding calls are
 * capped: a call due while the cap is reached is not sent and is counted in {@link
 * Result#notSent()}, so the generator cannot run out of memory against a server that stopped
 * answering.
 */
final class OpenLoopLoadGenerator {
  /** Latencies up to a minute, three significant digits, in microseconds. */
  private static final long HIGHEST_MICROS = TimeUnit.MINUTES.toMicros(1);

  private static final long START_LEAD_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private final Channel channel;
  private final double ratePerSecond;
  private final Duration warmup;
  private final Duration measurement;
  private final Duration deadline;
  private final int maxOutstanding;

  /**
   * Prepares a run; {@link #run()} sends the load.
   *
   * @param channel where calls go; its executor runs the completion callbacks, which are cheap
   * @param ratePerSecond calls started per second
   * @param warmup sending time before the measurement window, not recorded
   * @param measurement the window whose calls are recorded
   * @param deadline each call's deadline, from its actual send
   * @param maxOutstanding calls in flight at most; further due calls are not sent
   */
  OpenLoopLoadGenerator(
      Channel channel,
      double ratePerSecond,
      Duration warmup,
      Duration measurement,
      Duration deadline,
      int maxOutstanding) {
    if (!(ratePerSecond > 0)) {
      throw new IllegalArgumentException("ratePerSecond: " + ratePerSecond + " (expected: > 0)");
    }
    this.channel = channel;
    this.ratePerSecond = ratePerSecond;
    this.warmup = warmup;
    this.measurement = measurement;
    this.deadline = deadline;
    this.maxOutstanding = maxOutstanding;
  }

  /**
   * The outcome of the calls intended to start in the measurement window.
   *
   * @param measureStartNanos start of the window ({@link System#nanoTime()})
   * @param measureEndNanos end of the window ({@link System#nanoTime()})
   * @param sent calls sent
   * @param statusCounts how many calls ended with each status code (OK included)
   * @param notSent calls not sent because {@code maxOutstanding} calls were in flight
   * @param unfinished calls still without an outcome when the generator stopped waiting
   * @param okLatencyMicros latency of the calls that ended OK, from their intended start
   * @param rejectedLatencyMicros latency of the calls that ended RESOURCE_EXHAUSTED, likewise
   * @param sendLagMicros how late after its intended start each call was sent
   */
  record Result(
      long measureStartNanos,
      long measureEndNanos,
      long sent,
      Map<Status.Code, Long> statusCounts,
      long notSent,
      long unfinished,
      Histogram okLatencyMicros,
      Histogram rejectedLatencyMicros,
      Histogram sendLagMicros) {

    /** Length of the measurement window in seconds. */
    double seconds() {
      return (measureEndNanos - measureStartNanos) / 1e9;
    }

    /** Calls that ended with {@code code}. */
    long count(Status.Code code) {
      return statusCounts.getOrDefault(code, 0L);
    }

    /** Calls intended to start in the window: sent or not. */
    long intended() {
      return sent + notSent;
    }
  }

  /**
   * Sends the warm-up and measured load from the calling thread, then waits up to the deadline plus
   * a few seconds for the outstanding calls to end.
   */
  Result run() throws InterruptedException {
    ConcurrentHistogram okLatency = new ConcurrentHistogram(HIGHEST_MICROS, 3);
    ConcurrentHistogram rejectedLatency = new ConcurrentHistogram(HIGHEST_MICROS, 3);
    Histogram sendLag = new Histogram(HIGHEST_MICROS, 3);
    AtomicLongArray codes = new AtomicLongArray(Status.Code.values().length);
    AtomicInteger outstanding = new AtomicInteger();
    long sent = 0;
    long notSent = 0;

    long start = System.nanoTime() + START_LEAD_NANOS;
    long measureStart = start + warmup.toNanos();
    long measureEnd = measureStart + measurement.toNanos();
    double periodNanos = 1e9 / ratePerSecond;
    for (long i = 0; ; i++) {
      long intended = start + (long) (i * periodNanos);
      if (intended >= measureEnd) {
        break;
      }
      long now;
      while ((now = System.nanoTime()) < intended) {
        LockSupport.parkNanos(intended - now);
      }
      // Behind schedule (the park overslept, or a GC pause)? The loop sends every overdue call at
      // once; their latency still counts from the intended time.
      boolean measured = intended >= measureStart;
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
      ClientCall<byte[], byte[]> call =
          channel.newCall(
              SimulatedDependencyService.CALL,
              CallOptions.DEFAULT.withDeadlineAfter(deadline.toNanos(), TimeUnit.NANOSECONDS));
      ClientCalls.asyncUnaryCall(
          call,
          new byte[0],
          new Outcome(intended, measured, okLatency, rejectedLatency, codes, outstanding));
    }

    long waitUntil = System.nanoTime() + deadline.toNanos() + TimeUnit.SECONDS.toNanos(5);
    while (outstanding.get() > 0 && System.nanoTime() < waitUntil) {
      TimeUnit.MILLISECONDS.sleep(10);
    }
    Map<Status.Code, Long> counts = new EnumMap<>(Status.Code.class);
    long ended = 0;
    for (Status.Code code : Status.Code.values()) {
      long count = codes.get(code.ordinal());
      if (count > 0) {
        counts.put(code, count);
        ended += count;
      }
    }
    return new Result(
        measureStart,
        measureEnd,
        sent,
        counts,
        notSent,
        sent - ended,
        okLatency.copy(),
        rejectedLatency.copy(),
        sendLag);
  }

  /** Records how one call ended. Runs on the channel's executor. */
  private static final class Outcome implements StreamObserver<byte[]> {
    private final long intendedNanos;
    private final boolean measured;
    private final ConcurrentHistogram okLatency;
    private final ConcurrentHistogram rejectedLatency;
    private final AtomicLongArray codes;
    private final AtomicInteger outstanding;

    Outcome(
        long intendedNanos,
        boolean measured,
        ConcurrentHistogram okLatency,
        ConcurrentHistogram rejectedLatency,
        AtomicLongArray codes,
        AtomicInteger outstanding) {
      this.intendedNanos = intendedNanos;
      this.measured = measured;
      this.okLatency = okLatency;
      this.rejectedLatency = rejectedLatency;
      this.codes = codes;
      this.outstanding = outstanding;
    }

    @Override
    public void onNext(byte[] value) {}

    @Override
    public void onError(Throwable t) {
      end(Status.fromThrowable(t).getCode());
    }

    @Override
    public void onCompleted() {
      end(Status.Code.OK);
    }

    private void end(Status.Code code) {
      if (measured) {
        long micros = Math.min(HIGHEST_MICROS, (System.nanoTime() - intendedNanos) / 1000);
        if (code == Status.Code.OK) {
          okLatency.recordValue(micros);
        } else if (code == Status.Code.RESOURCE_EXHAUSTED) {
          rejectedLatency.recordValue(micros);
        }
        codes.incrementAndGet(code.ordinal());
      }
      outstanding.decrementAndGet();
    }
  }
}
