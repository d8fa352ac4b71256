package dev.chassis.discovery.consul;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.chassis.Chassis;
import dev.chassis.ChassisConfig;
import dev.chassis.server.ChassisServer;
import dev.chassis.server.LifecycleListener;
import dev.chassis.testing.PeerRecorder;
import dev.chassis.testkit.v1.EchoRequest;
import dev.chassis.testkit.v1.EchoServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Discovery behaviour that must hold against any Consul agent: {@link ConsulDoubleDiscoveryTest}
 * runs it against the in-process double, {@link RealConsulDiscoveryTest} against a real agent when
 * {@code CONSUL_HTTP_ADDR} is set. Only the Consul HTTP API is used to observe the agent, never a
 * double's hooks, so both runs check the same thing.
 */
abstract class ConsulDiscoveryContract {
  static final ObjectMapper json = new ObjectMapper();
  private static final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** Unique per test: a real agent is shared state. */
  final String serviceName = "chassis-it-" + UUID.randomUUID().toString().substring(0, 8);

  final List<ChassisServer> servers = new ArrayList<>();
  final List<ManagedChannel> channels = new ArrayList<>();

  /** The agent under test, such as {@code http://127.0.0.1:8500}. */
  abstract URI agent();

  /** The ACL token for the agent; empty when ACLs are off. */
  String token() {
    return "";
  }

  @AfterEach
  void stopEverything() throws InterruptedException {
    for (ManagedChannel channel : channels) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    servers.forEach(ChassisServer::close); // deregisters them
    afterServersStopped();
  }

  /** Runs after every server of a test stopped (and deregistered). */
  void afterServersStopped() {}

  /** Loopback, free port, quick checks and retries; {@code overrides} last. */
  ChassisConfig config(String overrides) {
    return ChassisConfig.of(
        """
        chassis {
          service.name = "%s"
          service.version = "1.4.2"
          grpc { host = 127.0.0.1, port = 0 }
          admin.port = -1
          health.check-interval = 100ms
          shutdown { drain-delay = 300ms, grace = 5s, handle-signals = false }
          discovery.consul {
            address = "%s"
            token = "%s"
            watch-wait = 5s
            error-initial-backoff = 100ms
            error-max-backoff = 500ms
            registration {
              tags = [grpc, it]
              meta { zone = zone-a }
              initial-backoff = 100ms
              max-backoff = 500ms
              verify-interval = 500ms
            }
            check { interval = 1s, timeout = 1s, ttl = 3s }
          }
        }
        %s
        """
            .formatted(serviceName, agent(), token(), overrides));
  }

  ChassisServer startServer(String overrides, LifecycleListener... listeners) throws IOException {
    return startServer(overrides, new AtomicBoolean(true), listeners);
  }

  /** A server whose readiness (and so gRPC health) follows {@code ready}. */
  ChassisServer startServer(String overrides, AtomicBoolean ready, LifecycleListener... listeners)
      throws IOException {
    ChassisServer.Builder builder =
        ChassisServer.newBuilder(config(overrides))
            .addService(new Echo())
            .readinessCheck("flag", ready::get);
    for (LifecycleListener listener : listeners) {
      builder.lifecycleListener(listener);
    }
    ChassisServer server = builder.start();
    servers.add(server);
    return server;
  }

  /** A channel on {@code consul:///<serviceName>} that records which instance served each call. */
  ManagedChannel channel(PeerRecorder peers) {
    ManagedChannel channel = Chassis.channel(config(""), serviceName).intercept(peers).build();
    channels.add(channel);
    return channel;
  }

  /** The instance ids the agent lists as passing for our service. */
  Set<String> passingIds() throws IOException, InterruptedException {
    Set<String> ids = new HashSet<>();
    for (JsonNode entry : getJson("/v1/health/service/" + serviceName + "?passing")) {
      ids.add(entry.get("Service").get("ID").asText());
    }
    return ids;
  }

  /** Every registered instance id, passing or not. */
  Set<String> registeredIds() throws IOException, InterruptedException {
    Set<String> ids = new HashSet<>();
    for (JsonNode entry : getJson("/v1/health/service/" + serviceName)) {
      ids.add(entry.get("Service").get("ID").asText());
    }
    return ids;
  }

  JsonNode getJson(String path) throws IOException, InterruptedException {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(agent().resolve(path)).timeout(Duration.ofSeconds(5));
    if (!token().isEmpty()) {
      request.header("X-Consul-Token", token());
    }
    HttpResponse<String> response =
        http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as("GET %s: %s", path, response.body()).isEqualTo(200);
    return json.readTree(response.body());
  }

  static String idOf(ChassisServer server) {
    return ConsulServiceRegistry.instanceFor(server.config(), server.port()).id();
  }

  /** The server ports that answered the calls {@code calls} makes. */
  static Set<Integer> portsOf(PeerRecorder peers, Runnable calls) {
    return countsOf(peers, calls).keySet();
  }

  /** How many of the calls {@code calls} makes each server port answered. */
  static Map<Integer, Long> countsOf(PeerRecorder peers, Runnable calls) {
    int mark = peers.size();
    calls.run();
    return peers.countsByPortSince(mark);
  }

  /** Two instances, passing in Consul and both taking calls on a {@code consul:} channel. */
  record Rotation(ChassisServer a, ChassisServer b, PeerRecorder peers, ManagedChannel channel) {}

  Rotation twoInstancesInRotation() throws Exception {
    ChassisServer a = startServer("");
    ChassisServer b = startServer("");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> passingIds().containsAll(List.of(idOf(a), idOf(b))));
    PeerRecorder peers = new PeerRecorder();
    ManagedChannel channel = channel(peers);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> portsOf(peers, () -> echo(channel, 20)).equals(Set.of(a.port(), b.port())));
    return new Rotation(a, b, peers, channel);
  }

  static void echo(ManagedChannel channel, int calls) {
    EchoServiceGrpc.EchoServiceBlockingStub stub = EchoServiceGrpc.newBlockingStub(channel);
    for (int i = 0; i < calls; i++) {
      stub.withDeadlineAfter(5, TimeUnit.SECONDS)
          .echo(EchoRequest.newBuilder().setText("hi").build());
    }
  }

  @Test
  void registration_carriesAddressTagsMetaAndANativeGrpcCheck() throws Exception {
    ChassisServer server = startServer("");
    String id = idOf(server);

    await().atMost(Duration.ofSeconds(10)).until(() -> passingIds().contains(id));
    JsonNode entry = getJson("/v1/health/service/" + serviceName + "?passing").get(0);
    JsonNode service = entry.get("Service");
    assertThat(service.get("ID").asText()).isEqualTo(serviceName + "-127.0.0.1-" + server.port());
    assertThat(service.get("Address").asText()).isEqualTo("127.0.0.1");
    assertThat(service.get("Port").asInt()).isEqualTo(server.port());
    assertThat(service.get("Tags")).extracting(JsonNode::asText).containsExactly("grpc", "it");
    assertThat(service.get("Meta").get("version").asText()).isEqualTo("1.4.2");
    assertThat(service.get("Meta").get("zone").asText()).isEqualTo("zone-a");
    JsonNode check = getJson("/v1/agent/checks").get("service:" + id);
    assertThat(check.get("Type").asText()).isEqualTo("grpc");
    assertThat(check.get("Status").asText()).isEqualTo("passing");
    assertThat(check.get("ServiceID").asText()).isEqualTo(id);
  }

  @Test
  void grpcCheck_followsTheServersHealth() throws Exception {
    AtomicBoolean ready = new AtomicBoolean(true);
    ChassisServer server = startServer("", ready);
    String id = idOf(server);
    await().atMost(Duration.ofSeconds(10)).until(() -> passingIds().contains(id));

    ready.set(false); // health NOT_SERVING: Consul's own gRPC check fails
    await().atMost(Duration.ofSeconds(10)).until(() -> !passingIds().contains(id));
    assertThat(registeredIds()).contains(id);

    ready.set(true);
    await().atMost(Duration.ofSeconds(10)).until(() -> passingIds().contains(id));
  }

  @Test
  void ttlMode_heartbeatsTheServersHealth() throws Exception {
    AtomicBoolean ready = new AtomicBoolean(true);
    ChassisServer server = startServer("chassis.discovery.consul.check.mode = ttl", ready);
    String id = idOf(server);

    await().atMost(Duration.ofSeconds(10)).until(() -> passingIds().contains(id));
    JsonNode check = getJson("/v1/agent/checks").get("service:" + id);
    assertThat(check.get("Type").asText()).isEqualTo("ttl");
    assertThat(check.get("Output").asText()).isEqualTo("SERVING");

    ready.set(false);
    await().atMost(Duration.ofSeconds(10)).until(() -> !passingIds().contains(id));
    ready.set(true);
    await().atMost(Duration.ofSeconds(10)).until(() -> passingIds().contains(id));
  }

  @Test
  void drain_deregistersBeforeTheServerStopsAccepting() throws Exception {
    AtomicReference<Set<String>> registeredWhileDraining = new AtomicReference<>();
    AtomicReference<Boolean> servingWhileDraining = new AtomicReference<>();
    LifecycleListener probe =
        new LifecycleListener() {
          @Override
          public void onDraining(ChassisServer server) {
            try {
              registeredWhileDraining.set(registeredIds());
              // The port still accepts: drain-delay has not begun.
              ManagedChannel direct =
                  io.grpc.ManagedChannelBuilder.forAddress("127.0.0.1", server.port())
                      .usePlaintext()
                      .build();
              try {
                echo(direct, 1);
                servingWhileDraining.set(true);
              } finally {
                direct.shutdownNow();
              }
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          }
        };
    ChassisServer server = startServer("", probe);
    String id = idOf(server);
    await().atMost(Duration.ofSeconds(10)).until(() -> passingIds().contains(id));

    server.close();

    assertThat(registeredWhileDraining.get()).doesNotContain(id);
    assertThat(servingWhileDraining.get()).isTrue();
    assertThat(registeredIds()).doesNotContain(id);
  }

  @Test
  void resolver_spreadsCallsOverEveryPassingInstanceAndFollowsChanges() throws Exception {
    Rotation rotation = twoInstancesInRotation();
    ChassisServer a = rotation.a();
    ChassisServer b = rotation.b();
    PeerRecorder peers = rotation.peers();
    ManagedChannel channel = rotation.channel();
    Map<Integer, Long> spread = countsOf(peers, () -> echo(channel, 300));
    assertThat(spread.get(a.port())).isBetween(135L, 165L);
    assertThat(spread.get(b.port())).isBetween(135L, 165L);

    // A third instance joins the rotation once its check passes: the resolver's blocking query
    // returns on the change, long before its 5 s wait would have ended.
    ChassisServer c = startServer("");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                portsOf(peers, () -> echo(channel, 30))
                    .equals(Set.of(a.port(), b.port(), c.port())));

    // One leaves: drained and deregistered, it leaves the rotation without failing a call.
    b.close();
    assertThat(portsOf(peers, () -> echo(channel, 60))).isEqualTo(Set.of(a.port(), c.port()));
  }

  @Test
  void resolver_withNoPassingInstance_failsCallsWithUnavailableNamingTheService() {
    PeerRecorder peers = new PeerRecorder();
    ManagedChannel channel = channel(peers);

    StatusRuntimeException failure =
        org.assertj.core.api.Assertions.catchThrowableOfType(
            StatusRuntimeException.class, () -> echo(channel, 1));

    assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(failure.getStatus().getDescription())
        .contains("no passing instance of " + serviceName);
  }

  @Test
  void resolver_tagFilter_keepsOnlyInstancesWithEveryTag() throws Exception {
    ChassisServer tagged = startServer("chassis.discovery.consul.registration.tags = [canary]");
    ChassisServer plain = startServer("");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> passingIds().containsAll(List.of(idOf(tagged), idOf(plain))));
    PeerRecorder peers = new PeerRecorder();
    ManagedChannel channel =
        Chassis.channel(config(""), serviceName)
            .target("consul:///" + serviceName + "?tag=canary")
            .intercept(peers)
            .build();
    channels.add(channel);

    assertThat(portsOf(peers, () -> echo(channel, 20))).containsExactly(tagged.port());
  }

  /** Test service; answers every call. */
  static final class Echo extends EchoServiceGrpc.EchoServiceImplBase {
    @Override
    public void echo(
        EchoRequest request,
        io.grpc.stub.StreamObserver<dev.chassis.testkit.v1.EchoResponse> response) {
      response.onNext(
          dev.chassis.testkit.v1.EchoResponse.newBuilder().setText(request.getText()).build());
      response.onCompleted();
    }
  }
}
