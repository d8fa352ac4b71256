package dev.chassis.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import dev.chassis.Chassis;
import dev.chassis.ChassisConfig;
import dev.chassis.server.ChassisServer;
import dev.chassis.testing.tls.TestPki;
import dev.chassis.testkit.v1.EchoRequest;
import dev.chassis.testkit.v1.EchoResponse;
import dev.chassis.testkit.v1.EchoServiceGrpc;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS and mTLS with certificates made at test time, real handshakes on loopback, certificate
 * reload, peer identity and authorization.
 */
class TlsAndAuthorizationTest {
  private static final String ALLOWED = "spiffe://example.org/ns/shop/sa/orders";
  private static final String OTHER = "spiffe://example.org/ns/shop/sa/billing";

  @TempDir Path dir;
  private TestPki ca;
  private Path caFile;
  private TestPki.Files serverFiles;
  private final List<ChassisServer> servers = new ArrayList<>();
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final AtomicBoolean ready = new AtomicBoolean(true);

  @BeforeEach
  void makeCertificates() {
    ca = TestPki.newCa("test-ca");
    caFile = dir.resolve("ca.crt");
    ca.writeCertificate(caFile);
    serverFiles = ca.server().write(dir, "server");
  }

  @AfterEach
  void stop() {
    channels.forEach(ManagedChannel::shutdownNow);
    servers.forEach(ChassisServer::close);
  }

  @Test
  void mtls_verifiedClient_succeeds_andTheHandlerAndTheAccessLogSeeItsSpiffeId() throws Exception {
    ChassisServer server = start(true, "");
    ch.qos.logback.classic.Logger accessLog =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("chassis.access");
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
        new ch.qos.logback.core.read.ListAppender<>();
    lines.start();
    accessLog.addAppender(lines);
    ch.qos.logback.classic.Level level = accessLog.getLevel();
    accessLog.setLevel(ch.qos.logback.classic.Level.INFO); // the tests' root level is WARN
    try {
      EchoResponse response = echo(channel(server, ca.client(ALLOWED)));

      assertThat(response.getText()).isEqualTo(ALLOWED);
      await()
          .atMost(Duration.ofSeconds(5))
          .until(
              () ->
                  lines.list.stream()
                      .flatMap(event -> java.util.Arrays.stream(event.getArgumentArray()))
                      .anyMatch(
                          argument -> argument.toString().equals("peer.identity=" + ALLOWED)));
    } finally {
      accessLog.setLevel(level);
      accessLog.detachAppender(lines);
    }
  }

  @Test
  void mtls_refusesNoCertificateAnotherCaAnExpiredCertificateAndPlaintext() throws Exception {
    ChassisServer server = start(true, "");
    TestPki otherCa = TestPki.newCa("other-ca");

    assertRefused(channel(server, null));
    assertRefused(channel(server, otherCa.client(ALLOWED)));
    assertRefused(channel(server, ca.expiredClient(ALLOWED)));
    assertRefused(plaintextChannel(server));
    assertThat(echo(channel(server, ca.client(ALLOWED))).getText()).isEqualTo(ALLOWED);
  }

  @Test
  void aKeyThatDoesNotBelongToTheCertificate_failsTheStart_andIsNeverLoadedOnRotation()
      throws Exception {
    TestPki.Files other = ca.server().write(Files.createTempDirectory(dir, "other"), "server");
    Files.copy(other.key(), dir.resolve("mismatched.key"));
    String mismatched =
        "chassis.tls { cert = \"%s\", key = \"%s\" }"
            .formatted(serverFiles.chain(), dir.resolve("mismatched.key"));

    org.assertj.core.api.Assertions.assertThatThrownBy(() -> start(false, mismatched))
        .hasMessageContaining("the key does not belong to the certificate");

    // On rotation: a new certificate next to the old key stays unloaded; the old pair serves.
    ChassisServer server = start(true, "chassis.tls.reload-interval = 100ms");
    ManagedChannel channel = channel(server, ca.client(ALLOWED));
    BigInteger serial = serverSerial(channel);
    ca.server("half-rotated").writeChain(serverFiles.chain());
    await()
        .during(Duration.ofMillis(600))
        .atMost(Duration.ofSeconds(2))
        .until(() -> serverSerial(channel(server, ca.client(ALLOWED))).equals(serial));
  }

  @Test
  void rotation_newConnectionsGetTheNewCertificate_whileAnOpenStreamSurvives() throws Exception {
    ChassisServer server = start(true, "chassis.tls.reload-interval = 200ms");
    ManagedChannel before = channel(server, ca.client(ALLOWED));
    BigInteger oldSerial = serverSerial(before);
    List<HealthCheckResponse.ServingStatus> watched = new CopyOnWriteArrayList<>();
    HealthGrpc.newStub(before).watch(HealthCheckRequest.getDefaultInstance(), observer(watched));
    await().atMost(Duration.ofSeconds(5)).until(() -> !watched.isEmpty());

    TestPki.Issued rotated = ca.server("rotated.example.org");
    rotated.write(dir, "server");

    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                serverSerial(channel(server, ca.client(ALLOWED)))
                    .equals(rotated.certificate().getSerialNumber()));
    assertThat(oldSerial).isNotEqualTo(rotated.certificate().getSerialNumber());
    // The stream opened before the rotation is still there and still delivers.
    ready.set(false);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> watched.contains(HealthCheckResponse.ServingStatus.NOT_SERVING));
    assertThat(serverSerial(before)).isEqualTo(oldSerial);
  }

  @Test
  void chassisChannel_mtlsFromConfig_presentsTheConfiguredClientCertificate() throws Exception {
    ChassisServer server = start(true, "");
    ca.client(ALLOWED).write(dir, "client");
    ChassisConfig config =
        ChassisConfig.of(
            """
            chassis.clients.echo {
              target = "static:///127.0.0.1:%d"
              authority = localhost
              tls { enabled = true, ca = "%s", cert = "%s", key = "%s", reload-interval = 200ms }
            }
            """
                .formatted(
                    server.port(), caFile, dir.resolve("client.crt"), dir.resolve("client.key")));
    ManagedChannel channel = Chassis.channel(config, "echo").build();
    channels.add(channel);

    assertThat(echo(channel).getText()).isEqualTo(ALLOWED);
  }

  @Test
  void authorization_allowsAndDeniesByIdentityPerMethod_healthStaysOpen() throws Exception {
    Path policy = dir.resolve("policy.json");
    Files.writeString(policy, policy("\"" + ALLOWED + "\""));
    ChassisServer server =
        start(
            true,
            "chassis.authorization { policy-file = \"%s\", reload-interval = 200ms }"
                .formatted(policy));
    ManagedChannel other = channel(server, ca.client(OTHER));

    assertThat(echo(channel(server, ca.client(ALLOWED))).getText()).isEqualTo(ALLOWED);
    StatusRuntimeException denied =
        catchThrowableOfType(StatusRuntimeException.class, () -> echo(other));
    assertThat(denied.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(denied.getStatus().getDescription())
        .isEqualTo(OTHER + " may not call chassis.testkit.v1.EchoService/Echo");
    // A deny rule wins over the allow rule: the "forbidden" text is denied to everyone.
    StatusRuntimeException forbidden =
        catchThrowableOfType(
            StatusRuntimeException.class,
            () -> echo(channel(server, ca.client(ALLOWED)), "forbidden"));
    assertThat(forbidden.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    // Health is not guarded by the policy.
    assertThat(
            HealthGrpc.newBlockingStub(other)
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .check(HealthCheckRequest.getDefaultInstance())
                .getStatus())
        .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);

    // The policy file changes: the other identity is allowed from then on.
    Files.writeString(policy, policy("\"" + ALLOWED + "\", \"*/sa/billing\""));
    await()
        .atMost(Duration.ofSeconds(10))
        .ignoreExceptions()
        .until(() -> echo(other).getText().equals(OTHER));
  }

  @Test
  void authorization_withoutAClientCertificate_isUnauthenticated() throws Exception {
    Path policy = dir.resolve("policy.json");
    Files.writeString(policy, policy("\"*\""));
    // TLS without client-ca: clients need no certificate, and so have no identity.
    ChassisServer server =
        start(false, "chassis.authorization.policy-file = \"%s\"".formatted(policy));

    StatusRuntimeException failure =
        catchThrowableOfType(StatusRuntimeException.class, () -> echo(channel(server, null)));

    assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
  }

  @Test
  void rateLimit_perPeerIdentity_givesEachIdentityItsOwnBudget() throws Exception {
    ChassisServer server =
        start(
            true,
            """
            chassis.limits.rate {
              caller-peer-identity = true
              methods { "*" { permits = 2, period = 1h } }
            }
            """);
    ManagedChannel allowed = channel(server, ca.client(ALLOWED));
    ManagedChannel other = channel(server, ca.client(OTHER));

    echo(allowed);
    echo(allowed);
    StatusRuntimeException limited =
        catchThrowableOfType(StatusRuntimeException.class, () -> echo(allowed));

    assertThat(limited.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(echo(other).getText()).isEqualTo(OTHER);
  }

  private static String policy(String allowedPrincipals) {
    return """
        {
          "name": "echo-policy",
          "deny_rules": [
            { "name": "nobody-says-forbidden",
              "request": { "paths": ["/chassis.testkit.v1.EchoService/*"],
                           "headers": [{ "key": "x-echo", "values": ["forbidden"] }] } }
          ],
          "allow_rules": [
            { "name": "echo-callers",
              "source": { "principals": [%s] },
              "request": { "paths": ["/chassis.testkit.v1.EchoService/Echo"] } }
          ]
        }
        """
        .formatted(allowedPrincipals);
  }

  private ChassisServer start(boolean mutual, String overrides) throws Exception {
    String tls =
        "chassis.tls { cert = \"%s\", key = \"%s\" %s }"
            .formatted(
                serverFiles.chain(),
                serverFiles.key(),
                mutual ? ", client-ca = \"" + caFile + "\"" : "");
    ChassisServer server =
        ChassisServer.newBuilder(
                ChassisConfig.of(
                        """
                        chassis {
                          service.name = secure-echo
                          grpc { host = 127.0.0.1, port = 0 }
                          admin.port = -1
                          health.check-interval = 100ms
                          shutdown { drain-delay = 0s, grace = 2s, handle-signals = false }
                        }
                        """)
                    .with(tls)
                    .with(overrides))
            .addService(new IdentityEcho())
            .readinessCheck("flag", ready::get)
            .start();
    servers.add(server);
    return server;
  }

  /** A channel presenting {@code client}'s certificate (none when null), trusting the test CA. */
  private ManagedChannel channel(ChassisServer server, TestPki.Issued client) throws Exception {
    TlsChannelCredentials.Builder credentials =
        TlsChannelCredentials.newBuilder().trustManager(caFile.toFile());
    if (client != null) {
      TestPki.Files files = client.write(Files.createTempDirectory(dir, "client"), "client");
      credentials.keyManager(files.chain().toFile(), files.key().toFile());
    }
    return open(server, credentials.build());
  }

  private ManagedChannel plaintextChannel(ChassisServer server) {
    return open(server, InsecureChannelCredentials.create());
  }

  private ManagedChannel open(ChassisServer server, ChannelCredentials credentials) {
    ManagedChannel channel =
        Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(), credentials).build();
    channels.add(channel);
    return channel;
  }

  private static EchoResponse echo(Channel channel) {
    return echo(channel, "hello");
  }

  private static EchoResponse echo(Channel channel, String header) {
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("x-echo", Metadata.ASCII_STRING_MARSHALLER), header);
    return EchoServiceGrpc.newBlockingStub(channel)
        .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(headers))
        .withDeadlineAfter(5, TimeUnit.SECONDS)
        .echo(EchoRequest.newBuilder().setText("hi").build());
  }

  private static void assertRefused(Channel channel) {
    StatusRuntimeException failure =
        catchThrowableOfType(StatusRuntimeException.class, () -> echo(channel));
    assertThat(failure).as("the call was refused").isNotNull();
    assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
  }

  /** The serial number of the certificate the server presented on {@code channel}. */
  private static BigInteger serverSerial(Channel channel) throws Exception {
    AtomicReference<SSLSession> session = new AtomicReference<>();
    ClientInterceptor capture =
        new ClientInterceptor() {
          @Override
          public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
              MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
            return new ForwardingClientCall.SimpleForwardingClientCall<>(
                next.newCall(method, options)) {
              @Override
              public void start(Listener<RespT> listener, Metadata headers) {
                ClientCall<ReqT, RespT> call = this;
                super.start(
                    new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(
                        listener) {
                      @Override
                      public void onClose(Status status, Metadata trailers) {
                        session.set(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
                        super.onClose(status, trailers);
                      }
                    },
                    headers);
              }
            };
          }
        };
    HealthGrpc.newBlockingStub(channel)
        .withInterceptors(capture)
        .withDeadlineAfter(5, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance());
    return ((X509Certificate) session.get().getPeerCertificates()[0]).getSerialNumber();
  }

  private static StreamObserver<HealthCheckResponse> observer(
      List<HealthCheckResponse.ServingStatus> statuses) {
    return new StreamObserver<>() {
      @Override
      public void onNext(HealthCheckResponse response) {
        statuses.add(response.getStatus());
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    };
  }

  /** Echoes the caller's identity, read from the call's Context. */
  private static final class IdentityEcho extends EchoServiceGrpc.EchoServiceImplBase {
    @Override
    public void echo(EchoRequest request, StreamObserver<EchoResponse> response) {
      response.onNext(
          EchoResponse.newBuilder()
              .setText(PeerIdentities.current().map(PeerIdentity::id).orElse("anonymous"))
              .build());
      response.onCompleted();
    }
  }
}
