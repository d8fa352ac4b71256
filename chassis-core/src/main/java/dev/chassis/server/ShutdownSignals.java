package dev.chassis.server;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Process-wide SIGTERM/SIGINT handling. The JVM's own reaction to SIGTERM is to run shutdown hooks
 * and exit with status 143; Kubernetes and systemd read that as a failure. Trapping the signal lets
 * Chassis drain every running server first and then exit with status 0.
 *
 * <p>{@code sun.misc.Signal} (module jdk.unsupported, exported for exactly this use) is reached
 * reflectively: javac's "internal proprietary API" warning cannot be suppressed otherwise.
 */
final class ShutdownSignals {
  private static final Logger logger = LoggerFactory.getLogger(ShutdownSignals.class);
  private static final Set<ChassisServer> servers = new CopyOnWriteArraySet<>();
  private static final AtomicBoolean installed = new AtomicBoolean();
  private static final AtomicBoolean triggered = new AtomicBoolean();

  private ShutdownSignals() {}

  static void register(ChassisServer server) {
    servers.add(server);
    if (installed.compareAndSet(false, true)) {
      install("TERM");
      install("INT");
    }
  }

  static void unregister(ChassisServer server) {
    servers.remove(server);
  }

  private static void install(String name) {
    try {
      Class<?> signalClass = Class.forName("sun.misc.Signal");
      Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
      Object signal = signalClass.getConstructor(String.class).newInstance(name);
      Object handler =
          Proxy.newProxyInstance(
              handlerClass.getClassLoader(),
              new Class<?>[] {handlerClass},
              (proxy, method, args) -> {
                switch (method.getName()) {
                  case "handle":
                    onSignal(name);
                    return null;
                  case "hashCode":
                    return System.identityHashCode(proxy);
                  case "equals":
                    return proxy == args[0];
                  default:
                    return "ChassisSignalHandler[SIG" + name + "]";
                }
              });
      signalClass.getMethod("handle", signalClass, handlerClass).invoke(null, signal, handler);
    } catch (ReflectiveOperationException | RuntimeException e) {
      // Some platforms reserve signals (e.g. INT under -Xrs); the shutdown hook still drains.
      logger.warn("cannot trap SIG{}; relying on the JVM shutdown hook", name, e);
    }
  }

  private static void runOnNewThread(Runnable runnable) {
    Thread thread = new Thread(runnable, "chassis-drain");
    thread.start();
  }

  private static void onSignal(String name) {
    if (!triggered.compareAndSet(false, true)) {
      return;
    }
    // Signal handlers must return quickly; drain on a thread of our own. Servers drain in
    // parallel so their drain delays overlap instead of adding up.
    Thread drain =
        new Thread(
            () -> {
              logger.info("received SIG{}, draining {} server(s)", name, servers.size());
              List<CompletableFuture<Void>> drains = new ArrayList<>();
              for (ChassisServer server : servers) {
                drains.add(
                    CompletableFuture.runAsync(server::close, ShutdownSignals::runOnNewThread));
              }
              int status = 0;
              for (CompletableFuture<Void> each : drains) {
                try {
                  each.join();
                } catch (CompletionException e) {
                  logger.error("drain failed", e.getCause());
                  status = 1;
                }
              }
              logger.info("drained, exiting with status {}", status);
              System.exit(status);
            },
            "chassis-shutdown");
    drain.start();
  }
}
