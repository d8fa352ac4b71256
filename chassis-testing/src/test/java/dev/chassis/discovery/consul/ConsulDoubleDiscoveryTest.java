package dev.chassis.discovery.consul;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import dev.chassis.server.ChassisServer;
import dev.chassis.testing.PeerRecorder;
import dev.chassis.testing.consul.ConsulDouble;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The discovery contract against the Consul double, plus what only a double can stage: an agent
 * that is down, restarts without its state, or checks the exact registration payload.
 */
class ConsulDoubleDiscoveryTest extends ConsulDiscoveryContract {
  private static final org.slf4j.Logger logger =
      org.slf4j.LoggerFactory.getLogger(ConsulDoubleDiscoveryTest.class);

  private final ConsulDouble consul = ConsulDouble.start();

  @org.junit.jupiter.api.BeforeAll
  static void sayWhetherARealAgentRunsToo() {
    if (System.getenv("CONSUL_HTTP_ADDR") == null) {
      logger.info(
          "CONSUL_HTTP_ADDR is not set: RealConsulDiscoveryTest, the same contract against a real"
              + " Consul agent, is skipped (docs/discovery.md says how to run it)");
    }
  }

  @Override
  URI agent() {
    return consul.address();
  }

  @Override
  void afterServersStopped() {
    consul.close();
  }

  @Test
  void registrationPayload_isAcceptedByTheStrictDoubleWithTheConfiguredCheck() throws Exception {
    ChassisServer server = startServer("");
    String id = idOf(server);

    await().atMost(Duration.ofSeconds(10)).until(() -> consul.instance(id).isPresent());
    ConsulDouble.Instance instance = consul.instance(id).orElseThrow();
    assertThat(instance.service()).isEqualTo(serviceName);
    assertThat(instance.address()).isEqualTo("127.0.0.1");
    assertThat(instance.port()).isEqualTo(server.port());
    ConsulDouble.Check check = consul.check("service:" + id).orElseThrow();
    assertThat(check.type()).isEqualTo("grpc");
    assertThat(check.grpc()).isEqualTo("127.0.0.1:" + server.port());
    assertThat(check.grpcUseTls()).isFalse();
    assertThat(check.interval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(check.timeout()).isEqualTo(Duration.ofSeconds(1));
    assertThat(check.deregisterCriticalServiceAfter()).isEqualTo(Duration.ofMinutes(1));
  }

  @Test
  void aclToken_goesInTheHeaderOfEveryRequest() throws Exception {
    String withToken = "chassis.discovery.consul.token = s3cret";
    ChassisServer server = startServer(withToken);
    String id = idOf(server);
    await().atMost(Duration.ofSeconds(10)).until(() -> passingIds().contains(id));
    ManagedChannel channel = dev.chassis.Chassis.channel(config(withToken), serviceName).build();
    channels.add(channel);
    echo(channel, 3);

    server.close();

    List<ConsulDouble.RecordedRequest> ours =
        consul.requests().stream()
            .filter(
                request ->
                    request.path().startsWith("/v1/agent/service/")
                        || request.path().equals("/v1/health/service/" + serviceName))
            .filter(request -> !request.path().contains("/v1/health/") || request.token() != null)
            .toList();
    assertThat(ours)
        .extracting(ConsulDouble.RecordedRequest::path)
        .contains(
            "/v1/agent/service/register",
            "/v1/health/service/" + serviceName,
            "/v1/agent/service/deregister/" + id);
    assertThat(ours)
        .allSatisfy(
            request -> {
              assertThat(request.token()).isEqualTo("s3cret");
              assertThat(request.rawQuery()).doesNotContain("token=");
            });
  }

  @Test
  void tls_registersAGrpcCheckWithTlsThatPassesWhenVerificationIsSkipped(@TempDir Path dir)
      throws Exception {
    String tls =
        """
        chassis.tls { cert = "%s", key = "%s" }
        chassis.discovery.consul.check.tls-skip-verify = true
        """
            .formatted(cert(dir, "server1.pem"), cert(dir, "server1.key"));
    ChassisServer server = startServer(tls);
    String id = idOf(server);

    await().atMost(Duration.ofSeconds(10)).until(() -> passingIds().contains(id));
    ConsulDouble.Check check = consul.check("service:" + id).orElseThrow();
    assertThat(check.grpcUseTls()).isTrue();
  }

  @Test
  void tls_withoutSkipVerify_aCertificateTheAgentDoesNotTrustFailsTheCheck(@TempDir Path dir)
      throws Exception {
    String tls =
        "chassis.tls { cert = \"%s\", key = \"%s\" }"
            .formatted(cert(dir, "server1.pem"), cert(dir, "server1.key"));
    ChassisServer server = startServer(tls);
    String id = idOf(server);

    // The test CA is not in the agent's (the JVM's) trust store.
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> consul.check("service:" + id).map(c -> !c.output().isEmpty()).orElse(false));
    ConsulDouble.Check check = consul.check("service:" + id).orElseThrow();
    assertThat(check.grpcUseTls()).isTrue();
    assertThat(check.status()).isEqualTo("critical");
    assertThat(passingIds()).doesNotContain(id);
  }

  private static Path cert(Path dir, String name) throws java.io.IOException {
    Path file = dir.resolve(name);
    try (java.io.InputStream in = io.grpc.testing.TlsTesting.loadCert(name)) {
      java.nio.file.Files.copy(in, file);
    }
    return file;
  }

  @Test
  void failFast_startSucceedsWhenARetryGetsThrough() throws Exception {
    consul.failNext("/v1/agent/service/register", 500, "rpc error: leadership lost");

    ChassisServer server = startServer("chassis.discovery.consul.registration.fail-fast = true");

    assertThat(consul.instance(idOf(server))).isPresent();
    assertThat(consul.requests())
        .filteredOn(request -> request.path().equals("/v1/agent/service/register"))
        .hasSize(2);
  }

  @Test
  void allInstancesGone_callsFailFastWithUnavailable() throws Exception {
    ChassisServer a = startServer("");
    ChassisServer b = startServer("");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> passingIds().containsAll(List.of(idOf(a), idOf(b))));
    // Without the breaker, which would soon answer for the resolver.
    ManagedChannel channel =
        dev.chassis.Chassis.channel(
                config("chassis.client.circuit-breaker.enabled = false"), serviceName)
            .build();
    channels.add(channel);
    echo(channel, 4);

    a.close();
    b.close();

    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              StatusRuntimeException failure =
                  catchThrowableOfType(StatusRuntimeException.class, () -> echo(channel, 1));
              assertThat(failure).isNotNull();
              assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
            });
    // Consul lists none: the resolver reported an error (so grpc keeps re-resolving), not an
    // empty list; the calls fail with the last connection error of the old addresses.
    assertThat(passingIds()).isEmpty();
  }

  @Test
  void resolver_waitsInBlockingQueriesInsteadOfPolling() throws Exception {
    Rotation rotation = twoInstancesInRotation();
    String health = "/v1/health/service/" + serviceName;
    int before = healthQueries(health).size();

    // Nothing changes: the resolver's query waits in Consul (watch-wait 5s) rather than polling.
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(3))
        .until(() -> healthQueries(health).size() <= before + 1);
    List<ConsulDouble.RecordedRequest> queries = healthQueries(health);
    assertThat(queries.get(queries.size() - 1).rawQuery())
        .contains("passing")
        .contains("index=")
        .contains("wait=5s");
    assertThat(rotation.peers().size()).isPositive();
  }

  private List<ConsulDouble.RecordedRequest> healthQueries(String path) {
    return consul.requests().stream().filter(request -> request.path().equals(path)).toList();
  }

  @Test
  void consulDownAtStart_serverStartsAndRegistersWhenConsulComesBack() throws Exception {
    consul.stopServing();
    ChassisServer server = startServer("");
    assertThat(server.isReady()).isTrue();

    consul.resumeServing();

    String id = idOf(server);
    await().atMost(Duration.ofSeconds(10)).until(() -> passingIds().contains(id));
  }

  @Test
  void failFast_startFailsWhenConsulStaysDown() {
    consul.stopServing();

    assertThatThrownBy(
            () ->
                startServer(
                    "chassis.discovery.consul.registration"
                        + " { fail-fast = true, fail-fast-timeout = 1s }"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("could not register in Consul at " + consul.address());
  }

  @Test
  void agentRestart_theInstanceRegistersAgainAndTheResolverFollowsAtOnce() throws Exception {
    ChassisServer server = startServer("");
    String id = idOf(server);
    await().atMost(Duration.ofSeconds(10)).until(() -> passingIds().contains(id));
    PeerRecorder peers = new PeerRecorder();
    // A long watch: following the restart within it shows the resolver did not keep its index.
    ManagedChannel channel =
        dev.chassis.Chassis.channel(
                config("chassis.discovery.consul.watch-wait = 60s"), serviceName)
            .intercept(peers)
            .build();
    channels.add(channel);
    echo(channel, 5);

    // A restart: connections drop, the state is gone, the index starts low again.
    consul.stopServing();
    consul.forgetEverything();
    consul.resumeServing();

    await().atMost(Duration.ofSeconds(10)).until(() -> passingIds().contains(id));
    ChassisServer second = startServer("");
    await()
        .atMost(Duration.ofSeconds(15))
        .until(
            () ->
                portsOf(peers, () -> echo(channel, 20))
                    .equals(Set.of(server.port(), second.port())));
  }

  @Test
  void indexGoingBackwards_theResolverStartsOverFromTheLowerIndex() throws Exception {
    ChassisServer server = startServer("");
    String id = idOf(server);
    await().atMost(Duration.ofSeconds(10)).until(() -> passingIds().contains(id));
    PeerRecorder peers = new PeerRecorder();
    ManagedChannel channel = channel(peers);
    echo(channel, 5);

    // Same connection, lower index (a failover to a server with less state): the blocked query
    // ends after its wait (5s) with the lower index, and the resolver does not stay behind it.
    consul.forgetEverything();

    await().atMost(Duration.ofSeconds(10)).until(() -> passingIds().contains(id));
    ChassisServer second = startServer("");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                portsOf(peers, () -> echo(channel, 20))
                    .equals(Set.of(server.port(), second.port())));
  }

  @Test
  void ttlMode_agentThatForgotTheCheck_getsTheRegistrationBack() throws Exception {
    ChassisServer server =
        startServer(
            "chassis.discovery.consul.check.mode = ttl\n"
                + "chassis.discovery.consul.registration.verify-interval = 1h");
    String id = idOf(server);
    await().atMost(Duration.ofSeconds(10)).until(() -> passingIds().contains(id));

    consul.forgetEverything();

    // The next heartbeat gets 404 and registers again (verification is an hour away).
    await().atMost(Duration.ofSeconds(10)).until(() -> passingIds().contains(id));
  }

  @Test
  void consulGoingAway_keepsTheClientOnTheLastKnownInstances() throws Exception {
    Rotation rotation = twoInstancesInRotation();
    ChassisServer a = rotation.a();
    ChassisServer b = rotation.b();
    PeerRecorder peers = rotation.peers();
    ManagedChannel channel = rotation.channel();

    consul.stopServing(); // the resolver's long poll is cut, its retries are refused

    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(4))
        .until(() -> portsOf(peers, () -> echo(channel, 10)).equals(Set.of(a.port(), b.port())));

    consul.resumeServing();
    ChassisServer c = startServer("");
    await()
        .atMost(Duration.ofSeconds(15))
        .until(
            () ->
                portsOf(peers, () -> echo(channel, 30))
                    .equals(Set.of(a.port(), b.port(), c.port())));
  }
}
