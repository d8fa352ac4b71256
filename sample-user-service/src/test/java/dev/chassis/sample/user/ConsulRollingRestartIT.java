package dev.chassis.sample.user;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.chassis.Chassis;
import dev.chassis.ChassisConfig;
import dev.chassis.sample.user.v1.GetUserRequest;
import dev.chassis.sample.user.v1.UserServiceGrpc;
import dev.chassis.testing.PeerRecorder;
import dev.chassis.testing.consul.ConsulDouble;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Three sample jars register in the Consul double; a client on {@code consul:///user-service}
 * balances over them while they are killed, restarted one by one, and while Consul goes away.
 *
 * <p>The load is {@code GetUser} of an id no instance has: every instance answers NOT_FOUND from
 * its handler, so a call counts as failed when it ends with any other status.
 */
class ConsulRollingRestartIT {
  private static final Path JAR = Path.of("target", "sample-user-service.jar");
  private static final Pattern STARTED = Pattern.compile("gRPC on [^:]+:(\\d+), admin");
  private static final String UNKNOWN_ID = "00000000-0000-0000-0000-000000000000";

  private static final org.slf4j.Logger logger =
      org.slf4j.LoggerFactory.getLogger(ConsulRollingRestartIT.class);

  private final ConsulDouble consul = ConsulDouble.start();
  private final List<Instance> instances = new ArrayList<>();
  private ManagedChannel channel;
  private Load load;

  @AfterEach
  void tearDown() throws InterruptedException {
    if (load != null) {
      load.stop();
    }
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    instances.forEach(instance -> instance.process.destroyForcibly());
    consul.close();
  }

  @Test
  void killRollingRestartAndConsulOutage_noCallFails() throws Exception {
    Instance a = start();
    Instance b = start();
    Instance c = start();
    awaitPassing(a, b, c);
    channel =
        Chassis.channel(
                ChassisConfig.of(
                    """
                    chassis.discovery.consul { address = "%s", watch-wait = 30s }
                    chassis.clients.user-service.methods {
                      "user.v1.UserService/GetUser" {
                        retry { max-attempts = 5, retryable-status-codes = [UNAVAILABLE] }
                      }
                    }
                    """
                        .formatted(consul.address())),
                "user-service")
            .build();
    load = new Load(channel);

    // 1. Round robin over all three: each within 10% of a third.
    await().atMost(Duration.ofSeconds(10)).until(() -> load.portsOf(30).size() == 3);
    Map<Integer, Long> spread = load.countOf(3000);
    logger.info("3000 calls over three instances: {}", spread);
    assertThat(spread).containsOnlyKeys(a.port, b.port, c.port);
    assertThat(spread.values()).allSatisfy(count -> assertThat(count).isBetween(900L, 1100L));

    // 2. SIGKILL under steady load: the instance leaves the rotation as soon as its gRPC check
    // fails, and the client's retries on UNAVAILABLE hide the calls that were on it.
    load.start(4);
    await().atMost(Duration.ofSeconds(5)).until(() -> load.calls() > 200);
    b.process.destroyForcibly();
    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> "critical".equals(consul.check("service:" + b.id()).orElseThrow().status()));
    await().atMost(Duration.ofSeconds(10)).until(() -> !passingIds().contains(b.id()));
    int afterKill = load.calls();
    await().atMost(Duration.ofSeconds(10)).until(() -> load.calls() > afterKill + 500);
    assertThat(load.portsSince(afterKill)).doesNotContain(b.port);
    assertThat(load.failures()).isEmpty();

    // 3. Rolling restart of all three (the killed one included) under load: each replacement
    // joins the rotation within one blocking-query round, then the old one gets SIGTERM and
    // deregisters before it stops accepting.
    List<Instance> current = new ArrayList<>(List.of(a, c));
    List<Instance> replacements = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Instance fresh = start();
      awaitPassing(fresh);
      long passing = System.nanoTime();
      int joined = load.calls();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> load.portsSince(joined).contains(fresh.port));
      logger.info(
          "instance {} took calls {} ms after its check passed (resolver watch-wait 30 s)",
          fresh.id(),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - passing));
      replacements.add(fresh);
      if (!current.isEmpty()) {
        Instance old = current.remove(0);
        old.process.toHandle().destroy(); // SIGTERM
        assertThat(old.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(old.process.exitValue()).isZero();
        assertThat(old.logIndexOf("deregistered " + old.id()))
            .as("deregistered before the gRPC port closed")
            .isGreaterThanOrEqualTo(0)
            .isLessThan(old.logIndexOf("stopped user-service"));
      }
    }
    int afterRestart = load.calls();
    await().atMost(Duration.ofSeconds(10)).until(() -> load.calls() > afterRestart + 300);
    assertThat(load.portsSince(afterRestart))
        .isEqualTo(replacements.stream().map(r -> r.port).collect(Collectors.toSet()));
    assertThat(load.failures()).isEmpty();

    // 4. Consul goes away: the client keeps calling the instances it knows.
    consul.stopServing();
    int duringOutage = load.calls();
    await().atMost(Duration.ofSeconds(10)).until(() -> load.calls() > duringOutage + 1000);
    assertThat(load.portsSince(duringOutage))
        .isEqualTo(replacements.stream().map(r -> r.port).collect(Collectors.toSet()));
    consul.resumeServing();
    load.stop();
    assertThat(load.failures()).isEmpty();
    logger.info(
        "{} calls answered through a SIGKILL, a rolling restart and a Consul outage; {} failed",
        load.calls(),
        load.failures().size());
  }

  private Set<String> passingIds() {
    return consul.instances("user-service").stream()
        .filter(instance -> instance.checks().stream().allMatch(c -> "passing".equals(c.status())))
        .map(ConsulDouble.Instance::id)
        .collect(Collectors.toSet());
  }

  private void awaitPassing(Instance... expected) {
    Set<String> ids =
        java.util.Arrays.stream(expected).map(Instance::id).collect(Collectors.toSet());
    await().atMost(Duration.ofSeconds(20)).until(() -> passingIds().containsAll(ids));
  }

  private Instance start() throws IOException {
    SampleJar jar =
        SampleJar.start(
            Map.of("CONSUL_HTTP_ADDR", consul.address().toString()),
            List.of(
                "-Dchassis.discovery.consul.check.interval=1s",
                "-Dchassis.discovery.consul.check.timeout=1s"));
    Instance instance = new Instance(jar);
    instances.add(instance);
    return instance;
  }

  /** One sample jar registered in the double. */
  private record Instance(SampleJar jar, Process process, int port) {
    Instance(SampleJar jar) {
      this(jar, jar.process, jar.grpcPort());
    }

    String id() {
      return "user-service-127.0.0.1-" + port;
    }

    int logIndexOf(String text) {
      return jar.logIndexOf(text);
    }
  }

  /** Client threads calling GetUser in a loop; records which port answered and any failure. */
  private static final class Load {
    private final PeerRecorder peers = new PeerRecorder();
    private final UserServiceGrpc.UserServiceBlockingStub stub;
    private final List<String> failures = new CopyOnWriteArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();

    Load(ManagedChannel channel) {
      this.stub = UserServiceGrpc.newBlockingStub(ClientInterceptors.intercept(channel, peers));
    }

    void start(int threadCount) {
      running.set(true);
      for (int i = 0; i < threadCount; i++) {
        Thread thread = new Thread(this::loop, "load-" + i);
        thread.setDaemon(true);
        thread.start();
        threads.add(thread);
      }
    }

    void stop() throws InterruptedException {
      running.set(false);
      for (Thread thread : threads) {
        thread.join(10_000);
      }
      threads.clear();
    }

    private void loop() {
      while (running.get()) {
        call();
      }
    }

    private void call() {
      try {
        stub.withDeadlineAfter(5, TimeUnit.SECONDS)
            .getUser(GetUserRequest.newBuilder().setId(UNKNOWN_ID).build());
        failures.add("unexpected OK");
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
          failures.add(e.getStatus().toString());
        }
      }
    }

    /** Calls answered by an instance so far. */
    int calls() {
      return peers.size();
    }

    List<String> failures() {
      return failures;
    }

    /** Ports that answered the calls after the {@code mark}-th. */
    Set<Integer> portsSince(int mark) {
      return peers.portsSince(mark);
    }

    Set<Integer> portsOf(int n) {
      return countOf(n).keySet();
    }

    /** Makes {@code n} calls on this thread and counts them per server port. */
    Map<Integer, Long> countOf(int n) {
      int mark = peers.size();
      for (int i = 0; i < n; i++) {
        call();
      }
      return peers.countsByPortSince(mark);
    }
  }
}
