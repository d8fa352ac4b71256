package dev.chassis.sample.user;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.chassis.testing.tls.TestPki;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link GrpcWebBrowserIT} over TLS: the packaged jar serves its gRPC-Web port with the gRPC port's
 * certificate (made at test time by {@link TestPki}, SANs {@code localhost} and {@code 127.0.0.1}),
 * and headless Chromium reaches {@code https://127.0.0.1:<port>} with ALPN, where it chooses
 * HTTP/2, which it never uses in clear text. Every request the browser makes to the service must
 * report protocol {@code h2}.
 *
 * <p>The driver runs the same browser steps as the plain test: the official grpc-web client in a
 * page on {@code http://127.0.0.1:<page port>} (the one allowed origin) calling the https endpoint
 * in both encodings; the same page from {@code http://localhost:<page port>}, refused by CORS; and
 * the sample's demo page on the https endpoint itself. Node's byte-level exchanges go over TLS too,
 * trusting the test CA and offering only {@code http/1.1} in ALPN. There is no client CA: a browser
 * here has no client certificate. The browser context ignores certificate errors, since no browser
 * trusts a throwaway CA; the handshake, ALPN and HTTP/2 are unchanged by that.
 *
 * <p>Screenshots ({@code test-page-tls.png}, {@code disallowed-origin-tls.png}, {@code
 * demo-page-tls.png}) and the driver's JSON ({@code result-tls.json}) are kept in {@code
 * target/grpc-web-e2e/}. Skipped like {@link GrpcWebBrowserIT} when Node.js or Chromium is missing,
 * except under CI, where it fails.
 */
class GrpcWebBrowserTlsIT {
  private static final List<String> SCREENSHOTS =
      List.of("test-page-tls.png", "disallowed-origin-tls.png", "demo-page-tls.png");

  @TempDir static Path dir;
  private static SampleJar jar;
  private static JsonNode result;
  private static String allowedOrigin;
  private static String disallowedOrigin;

  @BeforeAll
  static void runBrowserAgainstTheJarOverTls() throws Exception {
    NodeE2eClient.requireNodeClient();
    Path chromium = GrpcWebE2e.requireChromium();
    TestPki ca = TestPki.newCa("grpc-web-browser-tls-it-ca");
    Path caFile = dir.resolve("ca.crt");
    ca.writeCertificate(caFile);
    TestPki.Files server = ca.server().write(dir, "server");
    int pagePort = GrpcWebE2e.freePort();
    allowedOrigin = "http://127.0.0.1:" + pagePort;
    disallowedOrigin = "http://localhost:" + pagePort;
    jar =
        SampleJar.start(
            Map.of(
                "CHASSIS_TLS_CERT",
                server.chain().toString(),
                "CHASSIS_TLS_KEY",
                server.key().toString(),
                "CHASSIS_GRPC_WEB_PORT",
                "0",
                "CHASSIS_GRPC_WEB_ALLOWED_ORIGINS",
                allowedOrigin),
            List.of("-Dchassis.grpc-web.host=127.0.0.1"));
    int webPort = GrpcWebE2e.grpcWebPort(jar);
    assertThat(jar.log).anyMatch(line -> line.contains("gRPC-Web on port " + webPort + " (TLS)"));
    GrpcWebE2e.clearScreenshots(SCREENSHOTS);

    result =
        GrpcWebE2e.runDriver(
            "driver-tls.log",
            "--endpoint",
            "https://127.0.0.1:" + webPort,
            "--ca",
            caFile.toAbsolutePath().toString(),
            "--page-port",
            Integer.toString(pagePort),
            "--out",
            GrpcWebE2e.OUT.toAbsolutePath().toString(),
            "--tag",
            "tls",
            // The committed bundle is checked by GrpcWebBrowserIT; it does not depend on TLS.
            "--skip",
            "demoBundle",
            "--chromium",
            chromium.toString());
    Files.writeString(GrpcWebE2e.OUT.resolve("result-tls.json"), result.toPrettyString());
  }

  @AfterAll
  static void stopJar() {
    if (jar != null) {
      jar.close();
    }
  }

  @Test
  void browser_everyRequestToTheService_wentOverHttp2() {
    List<JsonNode> answered = new ArrayList<>();
    for (String page : List.of("/network/calls", "/disallowedOrigin/network", "/demoPage/calls")) {
      List<JsonNode> calls = GrpcWebE2e.list(result.at(page));
      assertThat(calls).as("%s: %s", page, result.at(page)).isNotEmpty();
      // Only the refused origin's POSTs have no response: the browser never sent them.
      calls.stream().filter(call -> call.has("status")).forEach(answered::add);
    }

    assertThat(answered)
        .hasSizeGreaterThan(10)
        .allSatisfy(
            call ->
                assertThat(call.at("/protocol").asText())
                    .as("%s %s", call.at("/method").asText(), call.at("/path").asText())
                    .isEqualTo("h2"));
    assertThat(answered)
        .extracting(call -> call.at("/method").asText())
        .contains("OPTIONS", "POST");
  }

  @ParameterizedTest
  @ValueSource(strings = {"text", "binary"})
  void browser_createGetListAndErrorModel_overHttp2(String format) {
    JsonNode calls = result.at("/formats/" + format);

    GrpcWebE2e.assertCreateGetListAndErrorModel(calls, format);
  }

  @ParameterizedTest
  @ValueSource(strings = {"text", "binary"})
  void browser_sawEveryCallAnsweredInItsOwnEncoding_afterAPreflight(String format) {
    GrpcWebE2e.assertEveryCallAnsweredInItsOwnEncoding_afterAPreflight(result, format);
  }

  @Test
  void browser_disallowedOrigin_preflightRefusedAndNothingCreated() {
    JsonNode refused = result.at("/disallowedOrigin");

    GrpcWebE2e.assertDisallowedOriginRefused(refused, disallowedOrigin);
  }

  @Test
  void demoPage_onTheHttpsOrigin_createsAUserThroughTheForm() {
    JsonNode demo = result.at("/demoPage");

    GrpcWebE2e.assertDemoPageWorked(demo);
  }

  @Test
  void nodeOverTlsWithHttp11_getsTheSameFramesAndCorsAnswers() {
    JsonNode raw = result.at("/raw");

    assertThat(GrpcWebE2e.list(raw))
        .isNotEmpty()
        .allSatisfy(
            exchange ->
                assertThat(exchange.at("/alpn").asText()).as("%s", exchange).isEqualTo("http/1.1"));
    GrpcWebE2e.assertCorsAnswersWithoutABrowser(raw, allowedOrigin);
    GrpcWebE2e.assertMessageFramesThenOneTrailerFrame(raw);
  }

  @Test
  void screenshots_areKeptAsPngs() throws IOException {
    GrpcWebE2e.assertScreenshotsKept(SCREENSHOTS, result);
  }
}
