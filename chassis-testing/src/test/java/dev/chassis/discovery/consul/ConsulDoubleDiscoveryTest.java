package dev.chassis.discovery.consul;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.chassis.server.ChassisServer;
import dev.chassis.testing.PeerRecorder;
import dev.chassis.testing.consul.ConsulDouble;
import io.grpc.ManagedChannel;
import java.net.URI;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

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
    ChassisServer server = startServer("chassis.discovery.consul.token = s3cret");
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
    // Every request carried the ACL token.
    assertThat(consul.requests())
        .filteredOn(request -> request.path().startsWith("/v1/agent/service/register"))
        .isNotEmpty()
        .allSatisfy(request -> assertThat(request.token()).isEqualTo("s3cret"));
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
  void agentRestartWithoutState_theInstanceRegistersAgainAndTheResolverFollows() throws Exception {
    ChassisServer server = startServer("");
    String id = idOf(server);
    await().atMost(Duration.ofSeconds(10)).until(() -> passingIds().contains(id));
    PeerRecorder peers = new PeerRecorder();
    ManagedChannel channel = channel(peers);
    echo(channel, 5);

    consul.forgetEverything(); // the index goes backwards, the instance is gone

    await().atMost(Duration.ofSeconds(10)).until(() -> passingIds().contains(id));
    // The resolver reset its index and still sees the instance: a new one shows up too.
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
