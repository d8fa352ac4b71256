package dev.chassis.benchmarks;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Samples the server while the load runs: the concurrency limit and the calls holding a slot
 * (Chassis' own gauges, absent when limiting is off) and how many handler runs completed so far.
 * Started once, stopped once.
 */
final class ServerProbe implements AutoCloseable {
  static final String LIMIT_GAUGE = "chassis.server.concurrency.limit";
  static final String IN_FLIGHT_GAUGE = "chassis.server.concurrency.in_flight";

  private final MeterRegistry registry;
  private final LongAdder completedWork;
  private final List<Sample> samples = new ArrayList<>();
  private final ScheduledExecutorService scheduler =
      Executors.newSingleThreadScheduledExecutor(
          runnable -> {
            Thread thread = new Thread(runnable, "saturation-probe");
            thread.setDaemon(true);
            return thread;
          });

  /**
   * Starts sampling every {@code period}.
   *
   * @param registry the server's registry, holding the concurrency gauges when limiting is on
   * @param completedWork handler runs completed, counted by the service
   * @param period time between samples
   */
  ServerProbe(MeterRegistry registry, LongAdder completedWork, Duration period) {
    this.registry = registry;
    this.completedWork = completedWork;
    scheduler.scheduleAtFixedRate(this::sample, 0, period.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Stops sampling. */
  @Override
  public void close() {
    scheduler.shutdownNow();
  }

  private record Sample(long nanos, long completedWork, double limit, double inFlight) {}

  private void sample() {
    Gauge limit = registry.find(LIMIT_GAUGE).gauge();
    Gauge inFlight = registry.find(IN_FLIGHT_GAUGE).gauge();
    Sample sample =
        new Sample(
            System.nanoTime(),
            completedWork.sum(),
            limit == null ? Double.NaN : limit.value(),
            inFlight == null ? Double.NaN : inFlight.value());
    synchronized (samples) {
      samples.add(sample);
    }
  }

  /**
   * What the server did in a time window. The limit values are NaN when limiting was off.
   *
   * @param samples samples taken in the window
   * @param workPerSecond handler runs completed per second, whether their caller still waited
   * @param limitMean the mean concurrency limit
   * @param limitMin the lowest limit sampled
   * @param limitMax the highest limit sampled
   * @param inFlightMean the mean number of calls holding a concurrency slot
   */
  record Summary(
      int samples,
      double workPerSecond,
      double limitMean,
      double limitMin,
      double limitMax,
      double inFlightMean) {}

  /** Summarises the samples taken between {@code fromNanos} and {@code toNanos}. */
  Summary summary(long fromNanos, long toNanos) {
    List<Sample> window = new ArrayList<>();
    synchronized (samples) {
      for (Sample sample : samples) {
        if (sample.nanos() >= fromNanos && sample.nanos() <= toNanos) {
          window.add(sample);
        }
      }
    }
    if (window.size() < 2) {
      return new Summary(window.size(), Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }
    Sample first = window.get(0);
    Sample last = window.get(window.size() - 1);
    double work =
        (last.completedWork() - first.completedWork()) / ((last.nanos() - first.nanos()) / 1e9);
    double limitSum = 0;
    double inFlightSum = 0;
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (Sample sample : window) {
      limitSum += sample.limit();
      inFlightSum += sample.inFlight();
      min = Math.min(min, sample.limit());
      max = Math.max(max, sample.limit());
    }
    return new Summary(
        window.size(), work, limitSum / window.size(), min, max, inFlightSum / window.size());
  }
}
