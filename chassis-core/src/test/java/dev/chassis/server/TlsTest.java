package dev.chassis.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chassis.Chassis;
import dev.chassis.ChassisConfig;
import dev.chassis.test.v1.TestRequest;
import dev.chassis.test.v1.TestServiceGrpc;
import dev.chassis.testsupport.TestServers;
import dev.chassis.testsupport.TestServiceImpl;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.testing.TlsTesting;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Server TLS and mTLS from chassis.tls.*, client TLS from chassis.clients.*.tls (grpc's test
 * certs).
 */
class TlsTest {
  @TempDir Path dir;

  @Test
  void tls_clientTrustingCa_connects() throws Exception {
    ChassisServer server = start("");
    ManagedChannel channel = channel(server.port(), false);
    try {
      assertThat(call(channel)).isEqualTo("test");
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.close();
    }
  }

  @Test
  void mutualTls_clientWithCertificateConnects_clientWithoutIsRefused() throws Exception {
    ChassisServer server = start("chassis.tls.client-ca = \"" + cert("ca.pem") + "\"");
    ManagedChannel withCert = channel(server.port(), true);
    ManagedChannel withoutCert = channel(server.port(), false);
    try {
      assertThat(call(withCert)).isEqualTo("test");
      assertThatThrownBy(() -> call(withoutCert))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    } finally {
      withCert.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      withoutCert.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.close();
    }
  }

  private ChassisServer start(String extra) throws Exception {
    ChassisConfig config =
        TestServers.loopback(
            "chassis.tls { cert = \"%s\", key = \"%s\" }\n%s"
                .formatted(cert("server1.pem"), cert("server1.key"), extra));
    return ChassisServer.newBuilder(config).addService(new TestServiceImpl()).start();
  }

  private ManagedChannel channel(int port, boolean clientCert) throws Exception {
    String keys =
        clientCert
            ? "cert = \"%s\", key = \"%s\"".formatted(cert("client.pem"), cert("client.key"))
            : "";
    ChassisConfig config =
        TestServers.loopback(
            """
            chassis.clients.secure {
              target = "static:///127.0.0.1:%d"
              authority = "foo.test.google.fr"
              tls { enabled = true, ca = "%s", %s }
            }
            """
                .formatted(port, cert("ca.pem"), keys));
    return Chassis.channel(config, "secure").build();
  }

  private static String call(ManagedChannel channel) {
    return TestServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(5, TimeUnit.SECONDS)
        .unary(TestRequest.newBuilder().setAction("ok").build())
        .getMessage();
  }

  private Path cert(String name) throws Exception {
    Path file = dir.resolve(name);
    if (!Files.exists(file)) {
      try (InputStream in = TlsTesting.loadCert(name)) {
        Files.copy(in, file);
      }
    }
    return file;
  }
}
