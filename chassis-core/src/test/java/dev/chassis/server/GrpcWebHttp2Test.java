package dev.chassis.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.chassis.ChassisConfig;
import dev.chassis.security.PeerIdentities;
import dev.chassis.security.PeerIdentity;
import dev.chassis.test.v1.TestRequest;
import dev.chassis.test.v1.TestResponse;
import dev.chassis.testsupport.GrpcWebTestClient;
import dev.chassis.testsupport.GrpcWebTestClient.Reply;
import dev.chassis.testsupport.TestServers;
import dev.chassis.testsupport.TestServiceImpl;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.testing.TlsTesting;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.File;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * gRPC-Web over HTTP/2, with curl (libcurl on nghttp2) as the foreign client: prior knowledge in
 * clear text, and ALPN over TLS, the way browsers reach an HTTPS origin.
 */
class GrpcWebHttp2Test {
  private static final String STREAM = "chassis.test.v1.TestService/ServerStream";

  @TempDir Path dir;

  @Test
  void clearText_priorKnowledge_servesHttp2() throws Exception {
    requireCurl();
    try (ChassisServer server = start("")) {
      Curl reply =
          curl(
              "http://127.0.0.1:" + server.grpcWebPort() + "/" + STREAM,
              "application/grpc-web-text",
              "--http2-prior-knowledge");

      assertThat(reply.httpVersion()).isEqualTo("2");
      assertStreamed(GrpcWebTestClient.decodeQuartets(reply.body()), reply);
    }
  }

  @Test
  void tls_negotiatesHttp2WithAlpn_andStillServesHttp11() throws Exception {
    requireCurl();
    String tls =
        """
        chassis.tls { cert = "%s", key = "%s" }
        """
            .formatted(copy("server1.pem"), copy("server1.key"));
    try (ChassisServer server = start(tls)) {
      String url = "https://127.0.0.1:" + server.grpcWebPort() + "/" + STREAM;

      Curl h2 = curl(url, "application/grpc-web+proto", "--insecure", "--http2");
      Curl h1 = curl(url, "application/grpc-web+proto", "--insecure", "--http1.1");

      assertThat(h2.httpVersion()).isEqualTo("2");
      assertStreamed(h2.body(), h2);
      assertThat(h1.httpVersion()).isEqualTo("1.1");
      assertStreamed(h1.body(), h1);
    }
  }

  @Test
  void mutualTls_requiresAClientCertificate_andTheCallSeesItsIdentity() throws Exception {
    requireCurl();
    AtomicReference<PeerIdentity> seen = new AtomicReference<>();
    ServerInterceptor recordIdentity =
        new ServerInterceptor() {
          @Override
          public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
              ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
            PeerIdentities.current().ifPresent(seen::set);
            return next.startCall(call, headers);
          }
        };
    ChassisConfig config =
        TestServers.loopback(
            """
            chassis.grpc-web { host = 127.0.0.1, port = 0 }
            chassis.tls { cert = "%s", key = "%s", client-ca = "%s" }
            """
                .formatted(copy("server1.pem"), copy("server1.key"), copy("ca.pem")));
    try (ChassisServer server =
        ChassisServer.newBuilder(config)
            .addService(new TestServiceImpl())
            .intercept(recordIdentity)
            .start()) {
      String url = "https://127.0.0.1:" + server.grpcWebPort() + "/" + STREAM;

      Curl withCertificate =
          curl(
              url,
              "application/grpc-web+proto",
              "--insecure",
              "--http2",
              "--cert",
              copy("client.pem"),
              "--key",
              copy("client.key"));
      int withoutCertificate =
          runCurl(new byte[0], "application/grpc-web+proto", url, "--insecure", "--http2");

      assertThat(withCertificate.httpVersion()).isEqualTo("2");
      assertStreamed(withCertificate.body(), withCertificate);
      assertThat(seen.get()).as("the peer identity the chain saw").isNotNull();
      assertThat(withoutCertificate).as("curl's exit status without a certificate").isNotZero();
    }
  }

  @Test
  void aClientLeavingTheConnection_cancelsItsStreams() throws Exception {
    requireCurl();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    ChassisConfig config = TestServers.loopback("chassis.grpc-web { host = 127.0.0.1, port = 0 }");
    try (ChassisServer server =
        ChassisServer.newBuilder(config)
            .addService(new TestServiceImpl())
            .meterRegistry(registry)
            .start()) {
      byte[] body =
          GrpcWebTestClient.frame(
              TestRequest.newBuilder().setAction("count").setCount(30).setDelayMs(100).build());

      // curl gives up after 1 s of a 3 s stream and closes the HTTP/2 connection.
      int exit =
          runCurl(
              body,
              "application/grpc-web+proto",
              "http://127.0.0.1:" + server.grpcWebPort() + "/" + STREAM,
              "--http2-prior-knowledge",
              "--max-time",
              "1");

      assertThat(exit).as("curl timed out (28)").isEqualTo(28);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> registry.scrape().contains("grpc_status=\"CANCELLED\""));
    } finally {
      registry.close();
    }
  }

  private static void assertStreamed(byte[] body, Curl curl) throws Exception {
    Reply reply = GrpcWebTestClient.parse(curl.status(), curl.headers(), body);
    assertThat(reply.httpStatus()).isEqualTo(200);
    assertThat(reply.messages(TestResponse.parser()))
        .extracting(TestResponse::getIndex)
        .containsExactly(0, 1, 2);
    assertThat(reply.grpcStatus()).isZero();
  }

  private ChassisServer start(String extra) throws Exception {
    ChassisConfig config =
        TestServers.loopback("chassis.grpc-web { host = 127.0.0.1, port = 0 }\n" + extra);
    return ChassisServer.newBuilder(config).addService(new TestServiceImpl()).start();
  }

  private record Curl(
      String httpVersion, int status, Map<String, List<String>> headers, byte[] body) {}

  private Curl curl(String url, String contentType, String... flags) throws Exception {
    byte[] request =
        GrpcWebTestClient.frame(TestRequest.newBuilder().setAction("count").setCount(3).build());
    int exit = runCurl(request, contentType, url, flags);
    String written = Files.readString(dir.resolve("out"), StandardCharsets.UTF_8).trim();
    assertThat(exit).as("curl: %s", written).isZero();
    Path headerFile = dir.resolve("headers");
    Path bodyFile = dir.resolve("body");
    String[] versionAndStatus = written.split(" ");
    Map<String, List<String>> headers = new LinkedHashMap<>();
    for (String line : Files.readAllLines(headerFile, StandardCharsets.ISO_8859_1)) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        headers
            .computeIfAbsent(line.substring(0, colon).trim().toLowerCase(), k -> new ArrayList<>())
            .add(line.substring(colon + 1).trim());
      }
    }
    return new Curl(
        versionAndStatus[0],
        Integer.parseInt(versionAndStatus[1]),
        headers,
        Files.readAllBytes(bodyFile));
  }

  /** Runs curl with {@code body} (base64 in text mode); output in body, headers and out. */
  private int runCurl(byte[] body, String contentType, String url, String... flags)
      throws Exception {
    byte[] request = contentType.contains("text") ? Base64.getEncoder().encode(body) : body;
    Path requestFile = Files.write(dir.resolve("request"), request);
    List<String> command =
        new ArrayList<>(
            List.of(
                "curl",
                "--silent",
                "--show-error",
                "--max-time",
                "20",
                "--output",
                dir.resolve("body").toString(),
                "--dump-header",
                dir.resolve("headers").toString(),
                "--write-out",
                "%{http_version} %{http_code}",
                "-H",
                "content-type: " + contentType,
                "-H",
                "x-grpc-web: 1",
                "--data-binary",
                "@" + requestFile));
    command.addAll(List.of(flags)); // a later --max-time wins
    command.add(url);
    Process process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("out").toFile())
            .start();
    try {
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("curl finished").isTrue();
    } finally {
      process.destroyForcibly();
    }
    return process.exitValue();
  }

  private String copy(String name) throws Exception {
    Path file = dir.resolve(name);
    if (!Files.exists(file)) {
      try (InputStream in = TlsTesting.loadCert(name)) {
        Files.copy(in, file);
      }
    }
    return file.toString();
  }

  /** curl with HTTP/2 (Debian's has it); .ci/run installs it, so only a bare machine skips. */
  private static void requireCurl() {
    boolean found = false;
    String path = System.getenv("PATH");
    if (path != null) {
      for (String entry : path.split(File.pathSeparator)) {
        found |= Files.isExecutable(Path.of(entry, "curl"));
      }
    }
    String message = "needs curl (Debian package curl), which .ci/run installs";
    if (System.getenv("CI") != null) {
      assertThat(found).as(message).isTrue();
    }
    Assumptions.assumeTrue(found, message);
  }
}
