package dev.chassis.sample.user;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.chassis.testing.tls.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar serving gRPC over mutual TLS, with certificates made at test time: a non-Java
 * client (Node's {@code @grpc/grpc-js}, {@code src/test/node/e2e.mjs}) with a client certificate
 * from the trusted CA completes every call; without a client certificate, or over plaintext, it
 * gets no connection at all.
 */
class SampleTlsProcessIT {

  @TempDir static Path dir;
  private static Path protos;
  private static Path caFile;
  private static TestPki.Files client;
  private static SampleJar jar;

  @BeforeAll
  static void startJarWithMutualTls() throws Exception {
    protos = Files.createDirectory(dir.resolve("protos"));
    NodeE2eClient.prepare(protos);

    TestPki ca = TestPki.newCa("sample-tls-it-ca");
    caFile = dir.resolve("ca.crt");
    ca.writeCertificate(caFile);
    TestPki.Files server = ca.server().write(dir, "server");
    client = ca.client("spiffe://example.org/ns/default/sa/node-e2e").write(dir, "client");

    jar =
        SampleJar.start(
            Map.of(
                "CHASSIS_TLS_CERT", server.chain().toString(),
                "CHASSIS_TLS_KEY", server.key().toString(),
                "CHASSIS_TLS_CLIENT_CA", caFile.toString()));
    assertThat(jar.log).anyMatch(line -> line.contains("(mTLS), admin on port"));
  }

  @AfterAll
  static void stopJar() throws InterruptedException {
    if (jar != null) {
      try {
        assertThat(jar.terminate()).as("exit status after SIGTERM; log: %s", jar.log).isZero();
      } finally {
        jar.close();
      }
    }
  }

  @Test
  void nodeClientWithClientCertificate_completesEveryCallOverMutualTls() throws Exception {
    JsonNode result =
        runNode(
            "--ca",
            caFile.toString(),
            "--cert",
            client.chain().toString(),
            "--key",
            client.key().toString(),
            "--server-name",
            "localhost");

    assertThat(result.get("tls").asBoolean()).isTrue();
    NodeE2eClient.assertEveryMethodWorked(result);
  }

  @Test
  void nodeClientWithoutClientCertificate_isRefusedInTheHandshake() throws Exception {
    JsonNode result = runNode("--ca", caFile.toString(), "--server-name", "localhost");

    assertThat(result.get("tls").asBoolean()).isTrue();
    // The server's TLS 1.3 alert 116 "certificate required" ends the handshake: no connection.
    assertThat(result.at("/health/overall/error/codeName").asText()).isEqualTo("UNAVAILABLE");
    assertThat(result.at("/health/overall/error/message").asText())
        .contains("certificate required");
    assertNothingReachedTheService(result);
  }

  @Test
  void plaintextNodeClient_getsNoConnectionToTheTlsPort() throws Exception {
    JsonNode result = runNode();

    assertThat(result.get("tls").asBoolean()).isFalse();
    assertThat(result.at("/health/overall/error/codeName").asText()).isEqualTo("UNAVAILABLE");
    assertNothingReachedTheService(result);
  }

  private static void assertNothingReachedTheService(JsonNode result) {
    assertThat(result.at("/health/userService/error/codeName").asText()).isEqualTo("UNAVAILABLE");
    assertThat(result.at("/reflectionError/codeName").asText()).isEqualTo("UNAVAILABLE");
    assertThat(result.at("/created/error/codeName").asText()).isEqualTo("UNAVAILABLE");
    assertThat(result.at("/duplicate/codeName").asText()).isEqualTo("UNAVAILABLE");
    assertThat(result.at("/listError/codeName").asText()).isEqualTo("UNAVAILABLE");
    assertThat(result.at("/importError/codeName").asText()).isEqualTo("UNAVAILABLE");
    assertThat(result.get("imported")).isEmpty();
  }

  private static JsonNode runNode(String... tlsFlags) throws Exception {
    return NodeE2eClient.run(jar.grpcPort(), protos, tlsFlags);
  }
}
