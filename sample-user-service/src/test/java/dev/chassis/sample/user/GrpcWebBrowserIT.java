package dev.chassis.sample.user;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The packaged jar's gRPC-Web endpoint, called from a real browser: headless Chromium, driven by
 * Playwright ({@code src/test/node/grpc-web-e2e.mjs}), runs the sample's browser client ({@code
 * src/main/js/user-service-client.mjs}, on the official {@code grpc-web} and {@code
 * google-protobuf} runtimes) in a page served from another origin, and opens the sample's own demo
 * page on the gRPC-Web port.
 *
 * <p>The jar starts with {@code CHASSIS_GRPC_WEB_PORT=0} and allows exactly one foreign origin,
 * {@code http://127.0.0.1:<page port>}, where the driver serves its test page. The driver runs
 * everything once and prints what it saw as JSON; each test here checks one part of it:
 *
 * <ul>
 *   <li>unary calls, the server stream, the error model and UNIMPLEMENTED for the bidirectional
 *       method, in both encodings ({@code application/grpc-web-text} and {@code
 *       application/grpc-web+proto}), with the browser's own view of every request;
 *   <li>the same page opened from {@code http://localhost:<page port>}, an origin not allowed: the
 *       preflight is refused with 403 and the browser reports the CORS block;
 *   <li>the framing and CORS headers byte by byte, from Node without a browser;
 *   <li>the demo page: a user created through the form shows up in the streamed list, and errors
 *       read "CODE: message";
 *   <li>the committed demo bundle matches its sources, and the hand-written message classes encode
 *       and decode as protobufjs does.
 * </ul>
 *
 * <p>Screenshots of the test page, the refused page and the demo page are kept in {@code
 * target/grpc-web-e2e/} with the driver's JSON ({@code result.json}). Needs Node.js, the npm
 * packages of {@code src/test/node} and Debian's {@code chromium}; without them the test is skipped
 * with a message, except under CI, where it fails. {@link GrpcWebBrowserTlsIT} runs the same
 * browser steps over TLS, where Chromium speaks HTTP/2; the checks both share are in {@link
 * GrpcWebE2e}.
 */
class GrpcWebBrowserIT {
  private static final List<String> SCREENSHOTS =
      List.of("test-page.png", "disallowed-origin.png", "demo-page.png");

  private static SampleJar jar;
  private static JsonNode result;
  private static String allowedOrigin;
  private static String disallowedOrigin;

  @BeforeAll
  static void runBrowserAgainstTheJar() throws Exception {
    NodeE2eClient.requireNodeClient();
    Path chromium = GrpcWebE2e.requireChromium();
    Path protos = Files.createTempDirectory("grpc-web-protos");
    NodeE2eClient.extractProtos(protos);
    int pagePort = GrpcWebE2e.freePort();
    allowedOrigin = "http://127.0.0.1:" + pagePort;
    disallowedOrigin = "http://localhost:" + pagePort;
    jar =
        SampleJar.start(
            Map.of("CHASSIS_GRPC_WEB_PORT", "0", "CHASSIS_GRPC_WEB_ALLOWED_ORIGINS", allowedOrigin),
            List.of("-Dchassis.grpc-web.host=127.0.0.1"));
    int webPort = GrpcWebE2e.grpcWebPort(jar);
    GrpcWebE2e.clearScreenshots(SCREENSHOTS);

    result =
        GrpcWebE2e.runDriver(
            "driver.log",
            "--endpoint",
            "http://127.0.0.1:" + webPort,
            "--page-port",
            Integer.toString(pagePort),
            "--out",
            GrpcWebE2e.OUT.toAbsolutePath().toString(),
            "--protos",
            protos.toAbsolutePath().toString(),
            "--chromium",
            chromium.toString());
    Files.writeString(GrpcWebE2e.OUT.resolve("result.json"), result.toPrettyString());
  }

  @AfterAll
  static void stopJar() {
    if (jar != null) {
      jar.close();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"text", "binary"})
  void browser_createGetListAndErrorModel(String format) {
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
  void protocol_corsAnswersWithoutABrowser() {
    JsonNode raw = result.at("/raw");

    GrpcWebE2e.assertCorsAnswersWithoutABrowser(raw, allowedOrigin);
  }

  @Test
  void protocol_messageFramesThenOneTrailerFrame_inBothEncodings() {
    JsonNode raw = result.at("/raw");

    GrpcWebE2e.assertMessageFramesThenOneTrailerFrame(raw);
  }

  @Test
  void demoPage_createsAUserThroughTheForm_andShowsErrorsAsCodeAndMessage() {
    JsonNode demo = result.at("/demoPage");

    GrpcWebE2e.assertDemoPageWorked(demo);
  }

  @Test
  void screenshots_areKeptAsPngs() throws IOException {
    GrpcWebE2e.assertScreenshotsKept(SCREENSHOTS, result);
  }

  @Test
  void demoBundle_isUpToDateWithItsSources() {
    JsonNode bundle = result.at("/demoBundle");

    assertThat(bundle.at("/upToDate").asBoolean())
        .as("run `npm run build-demo` in src/test/node and commit the result: %s", bundle)
        .isTrue();
  }

  @Test
  void browserClientCodecs_matchProtobufjs() {
    JsonNode codecs = result.at("/codecs");

    assertThat(GrpcWebE2e.list(codecs.at("/cases"))).hasSizeGreaterThan(5);
    assertThat(codecs.at("/ok").asBoolean()).as("%s", codecs).isTrue();
  }
}
