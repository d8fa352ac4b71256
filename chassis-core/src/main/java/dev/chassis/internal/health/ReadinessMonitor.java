package dev.chassis.internal.health;

import dev.chassis.health.ReadinessCheck;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs readiness checks periodically and publishes the outcome to grpc-services' {@link
 * HealthStatusManager} (overall {@code ""} and each service) and to {@link #snapshot()} for the
 * admin endpoint. Once {@link #drain()} is called the status is {@code NOT_SERVING} for good.
 */
public final class ReadinessMonitor implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(ReadinessMonitor.class);

  /** What readiness looks like now. {@code checks} maps each check name to whether it passed. */
  public record Snapshot(boolean started, boolean draining, Map<String, Boolean> checks) {
    /** Started, not draining, and every check passing. */
    public boolean ready() {
      return started && !draining && !checks.containsValue(false);
    }
  }

  private final HealthStatusManager health;
  private final Map<String, ReadinessCheck> checks;
  private final List<String> serviceNames;
  private final Duration interval;
  private final Duration timeout;
  private final ScheduledExecutorService scheduler;
  // Checks run on their own threads so that a hung check cannot stall the schedule.
  private final ExecutorService checkRunner;
  // The last run of each check; a check still running is not started again, so a check that
  // ignores interrupts holds one thread, not one more per interval.
  // (A cancelled Future counts as done while its thread may still run; track the thread's exit.)
  private final Map<String, AtomicBoolean> running = new ConcurrentHashMap<>();
  private volatile Snapshot snapshot;
  private @Nullable ScheduledFuture<?> schedule;

  public ReadinessMonitor(
      HealthStatusManager health,
      Map<String, ReadinessCheck> checks,
      List<String> serviceNames,
      Duration interval,
      Duration timeout) {
    this.health = health;
    this.checks = Map.copyOf(checks);
    this.serviceNames = List.copyOf(serviceNames);
    this.interval = interval;
    this.timeout = timeout;
    this.scheduler = Executors.newSingleThreadScheduledExecutor(daemon("chassis-readiness"));
    this.checkRunner = Executors.newCachedThreadPool(daemon("chassis-readiness-check"));
    Map<String, Boolean> initial = new LinkedHashMap<>();
    checks.keySet().forEach(name -> initial.put(name, false));
    this.snapshot = new Snapshot(false, false, Map.copyOf(initial));
    publish(ServingStatus.NOT_SERVING);
  }

  /** Runs every check once, publishes the result, and starts the periodic schedule. */
  public synchronized void start() {
    snapshot = new Snapshot(true, false, snapshot.checks());
    runChecks();
    long period = interval.toNanos();
    schedule =
        scheduler.scheduleWithFixedDelay(this::runChecks, period, period, TimeUnit.NANOSECONDS);
  }

  /** The latest results. */
  public Snapshot snapshot() {
    return snapshot;
  }

  /** Marks the service draining: NOT_SERVING from now on, whatever the checks say. */
  public synchronized void drain() {
    snapshot = new Snapshot(snapshot.started(), true, snapshot.checks());
    health.enterTerminalState();
  }

  @Override
  public synchronized void close() {
    if (schedule != null) {
      schedule.cancel(false);
    }
    scheduler.shutdownNow();
    checkRunner.shutdownNow();
  }

  private void runChecks() {
    Map<String, Boolean> results = new LinkedHashMap<>();
    for (Map.Entry<String, ReadinessCheck> entry : checks.entrySet()) {
      results.put(entry.getKey(), runCheck(entry.getKey(), entry.getValue()));
    }
    synchronized (this) {
      Snapshot previous = snapshot;
      if (previous.draining()) {
        return;
      }
      Snapshot next = new Snapshot(true, false, Map.copyOf(results));
      snapshot = next;
      if (next.ready() != previous.ready() || !previous.started()) {
        logger.info("readiness is now {} {}", next.ready() ? "READY" : "NOT_READY", results);
      }
      publish(next.ready() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
    }
  }

  private boolean runCheck(String name, ReadinessCheck check) {
    AtomicBoolean previous = running.get(name);
    if (previous != null && !previous.get()) {
      logger.warn("readiness check '{}' is still running from an earlier round", name);
      return false;
    }
    AtomicBoolean finished = new AtomicBoolean();
    Future<Boolean> result;
    try {
      result =
          checkRunner.submit(
              () -> {
                try {
                  return check.isReady();
                } finally {
                  finished.set(true);
                }
              });
    } catch (RejectedExecutionException e) {
      return false; // closing
    }
    running.put(name, finished);
    try {
      return result.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      result.cancel(true);
      logger.warn("readiness check '{}' took longer than {}", name, timeout);
      return false;
    } catch (ExecutionException e) {
      logger.warn("readiness check '{}' failed: {}", name, String.valueOf(e.getCause()));
      return false;
    } catch (CancellationException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private void publish(ServingStatus status) {
    health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, status);
    for (String service : serviceNames) {
      health.setStatus(service, status);
    }
  }

  static java.util.concurrent.ThreadFactory daemon(String name) {
    return runnable -> {
      Thread thread = new Thread(runnable, name);
      thread.setDaemon(true);
      return thread;
    };
  }
}
