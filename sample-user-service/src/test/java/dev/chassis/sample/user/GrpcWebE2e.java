package dev.chassis.sample.user;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.Status;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.StreamSupport;
import org.assertj.core.api.AbstractStringAssert;
import org.junit.jupiter.api.Assumptions;

/**
 * The browser driver {@code src/test/node/grpc-web-e2e.mjs} seen from Java, shared by {@link
 * GrpcWebBrowserIT} (plain HTTP) and {@link GrpcWebBrowserTlsIT} (TLS, HTTP/2): finding Chromium,
 * running the driver, and the checks both make on the JSON it prints.
 */
final class GrpcWebE2e {
  /** Where screenshots, the driver's JSON and its log are kept. */
  static final Path OUT = Path.of("target", "grpc-web-e2e");

  static final Pattern UUID =
      Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

  private static final Path NODE_PROJECT = Path.of("src", "test", "node");
  private static final Pattern GRPC_WEB_PORT = Pattern.compile("gRPC-Web on port (\\d+)");
  private static final String UNKNOWN_ID = "00000000-0000-0000-0000-000000000000";
  private static final ObjectMapper json = new ObjectMapper();

  private GrpcWebE2e() {}

  /**
   * Debian's Chromium ({@code /usr/bin/chromium}, or {@code $CHROMIUM}), else the test is skipped,
   * except under CI, where it fails.
   */
  static Path requireChromium() {
    String configured = System.getenv("CHROMIUM");
    Path chromium = Path.of(configured != null ? configured : "/usr/bin/chromium");
    boolean found = Files.isExecutable(chromium);
    String message =
        "needs Chromium (Debian package chromium) at " + chromium + "; .ci/run installs it";
    if (System.getenv("CI") != null) {
      assertThat(found).as(message).isTrue();
    }
    Assumptions.assumeTrue(found, message);
    return chromium;
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** The gRPC-Web port from the jar's start-up line ({@code gRPC-Web on port N}). */
  static int grpcWebPort(SampleJar jar) {
    for (String line : jar.log) {
      Matcher matcher = GRPC_WEB_PORT.matcher(line);
      if (matcher.find()) {
        return Integer.parseInt(matcher.group(1));
      }
    }
    throw new AssertionError("no 'gRPC-Web on port N' in the start-up log: " + jar.log);
  }

  /** Deletes the screenshots a previous run left in {@link #OUT}, so a stale one cannot pass. */
  static void clearScreenshots(List<String> names) throws IOException {
    Files.createDirectories(OUT);
    for (String name : names) {
      Files.deleteIfExists(OUT.resolve(name));
    }
  }

  /**
   * Runs the driver with {@code flags}; it exits 0 when every step ran and prints one JSON object,
   * which is returned. Its stderr goes to {@code log} in {@link #OUT}.
   */
  static JsonNode runDriver(String log, String... flags) throws Exception {
    return NodeE2eClient.runScript(
        "grpc-web-e2e.mjs", List.of(flags), OUT.resolve(log), Duration.ofSeconds(180));
  }

  /**
   * The test page's calls in one format ({@code /formats/<format>}): create, get, a streamed list,
   * the error model (NOT_FOUND with the server's message, INVALID_ARGUMENT, ALREADY_EXISTS with '%'
   * and non-ASCII in the message), delete, and UNIMPLEMENTED for client streaming.
   */
  static void assertCreateGetListAndErrorModel(JsonNode calls, String format) {
    JsonNode created = calls.at("/created");
    assertThat(created.at("/ok").asBoolean()).as("%s", created).isTrue();
    String id = created.at("/user/id").asText();
    assertThat(id).matches(UUID);
    assertThat(created.at("/user/name").asText()).isEqualTo("Ada " + format);
    assertThat(created.at("/user/createTime").isTextual()).as("create_time decoded").isTrue();
    JsonNode fetched = calls.at("/fetched");
    assertThat(fetched.at("/user/id").asText()).as("%s", fetched).isEqualTo(id);
    assertThat(fetched.at("/user/email").asText()).isEqualTo(created.at("/user/email").asText());
    assertThat(fetched.at("/user/createTime").asText())
        .isEqualTo(created.at("/user/createTime").asText());
    calls.at("/extra").forEach(extra -> assertThat(extra.at("/ok").asBoolean()).isTrue());

    JsonNode listed = calls.at("/listed");
    assertThat(listed.at("/ok").asBoolean()).as("%s", listed).isTrue();
    int count = listed.at("/count").asInt();
    assertThat(count).isGreaterThanOrEqualTo(4);
    assertThat(calls.at("/listedContainsCreated").asBoolean()).isTrue();
    assertThat(listed.at("/status/code").asInt()).isEqualTo(Status.Code.OK.value());
    // One 'data' event per user, in order, then the status (OK) and 'end'; never 'error'.
    List<String> events = texts(listed.at("/events"));
    assertThat(events.subList(0, count)).containsOnly("data");
    assertThat(events.subList(count, events.size()))
        .contains("status")
        .doesNotContain("data", "error")
        .endsWith("end");

    assertError(calls.at("/notFound"), Status.Code.NOT_FOUND)
        .isEqualTo("user " + UNKNOWN_ID + " not found");
    assertError(calls.at("/invalid"), Status.Code.INVALID_ARGUMENT).isNotBlank();
    assertError(calls.at("/duplicate"), Status.Code.ALREADY_EXISTS)
        .contains(created.at("/user/email").asText().toUpperCase());
    // '%' and non-ASCII in grpc-message survive the percent-encoding round trip.
    assertThat(calls.at("/unusualCreated/ok").asBoolean())
        .as("%s", calls.at("/unusualCreated"))
        .isTrue();
    assertError(calls.at("/unusualDuplicate"), Status.Code.ALREADY_EXISTS)
        .isEqualTo(calls.at("/unusualDuplicate/expectedMessage").asText())
        .contains("zoë.100%");
    assertThat(calls.at("/deleted/ok").asBoolean()).as("%s", calls.at("/deleted")).isTrue();
    assertError(calls.at("/deletedThenGet"), Status.Code.NOT_FOUND).contains("not found");
    // gRPC-Web has no client or bidirectional streaming: ImportUsers is refused, not half-served.
    assertError(calls.at("/importUsers"), Status.Code.UNIMPLEMENTED);
  }

  /**
   * The browser's own view of the test page's requests ({@code /network}): every POST in {@code
   * format} answered 200 in its own content type, after preflights answered 204, and no errors on
   * the page.
   */
  static void assertEveryCallAnsweredInItsOwnEncoding_afterAPreflight(
      JsonNode result, String format) {
    String contentType =
        format.equals("text") ? "application/grpc-web-text" : "application/grpc-web+proto";
    List<JsonNode> posts = new ArrayList<>();
    List<JsonNode> preflights = new ArrayList<>();
    result
        .at("/network/calls")
        .forEach(
            call -> {
              if (call.at("/method").asText().equals("OPTIONS")) {
                preflights.add(call);
              } else if (call.at("/contentType").asText().equals(contentType)) {
                posts.add(call);
              }
            });

    assertThat(posts).extracting(call -> call.at("/path").asText()).hasSizeGreaterThan(4);
    for (JsonNode post : posts) {
      assertThat(post.at("/status").asInt()).as("%s", post).isEqualTo(200);
      assertThat(post.at("/corsError").isMissingNode()).as("%s", post).isTrue();
      String responseType = post.at("/responseContentType").asText();
      if (format.equals("text")) {
        assertThat(responseType).as("%s", post).startsWith("application/grpc-web-text");
      } else {
        assertThat(responseType)
            .as("%s", post)
            .startsWith("application/grpc-web")
            .doesNotContain("text");
      }
    }
    assertThat(preflights).isNotEmpty();
    preflights.forEach(
        preflight ->
            assertThat(preflight.at("/status").asInt()).as("%s", preflight).isEqualTo(204));
    assertThat(result.at("/network/pageErrors")).isEmpty();
    assertThat(result.at("/network/consoleErrors")).isEmpty();
  }

  /**
   * The test page from an origin not allowed ({@code /disallowedOrigin}): preflights refused with
   * 403, the POSTs never sent, the browser reporting the CORS block, and no user created.
   */
  static void assertDisallowedOriginRefused(JsonNode refused, String disallowedOrigin) {
    assertThat(refused.at("/origin").asText()).as("%s", refused).isEqualTo(disallowedOrigin);
    for (String call : List.of("/getUser", "/createUser")) {
      assertThat(refused.at(call + "/ok").asBoolean()).as("%s", refused.at(call)).isFalse();
      assertThat(refused.at(call + "/code").asInt())
          .as("the call never reached the service: %s", refused.at(call))
          .isNotIn(Status.Code.OK.value(), Status.Code.NOT_FOUND.value());
    }
    assertThat(refused.at("/createdAnyway").isBoolean()).as("%s", refused).isTrue();
    assertThat(refused.at("/createdAnyway").asBoolean()).isFalse();
    List<JsonNode> preflights = new ArrayList<>();
    List<JsonNode> posts = new ArrayList<>();
    refused
        .at("/network")
        .forEach(
            call -> (call.at("/method").asText().equals("OPTIONS") ? preflights : posts).add(call));
    assertThat(preflights).isNotEmpty();
    preflights.forEach(
        preflight ->
            assertThat(preflight.at("/status").asInt()).as("%s", preflight).isEqualTo(403));
    assertThat(posts).isNotEmpty();
    posts.forEach(
        post -> {
          assertThat(post.at("/corsError").asText()).as("%s", post).startsWith("Preflight");
          assertThat(post.at("/status").isMissingNode()).as("no response: %s", post).isTrue();
        });
    assertThat(texts(refused.at("/consoleErrors")))
        .anySatisfy(
            message ->
                assertThat(message)
                    .contains("from origin '" + disallowedOrigin + "'")
                    .contains("blocked by CORS policy"));
  }

  /** The CORS answers Node got without a browser ({@code /raw}). */
  static void assertCorsAnswersWithoutABrowser(JsonNode raw, String allowedOrigin) {
    JsonNode allowed = raw.at("/preflightAllowed");
    assertThat(allowed.at("/status").asInt()).as("%s", allowed).isEqualTo(204);
    assertThat(allowed.at("/cors/access-control-allow-origin").asText()).isEqualTo(allowedOrigin);
    String allowedHeaders = allowed.at("/cors/access-control-allow-headers").asText().toLowerCase();
    if (!allowedHeaders.equals("*")) {
      assertThat(allowedHeaders).contains("content-type", "x-grpc-web", "x-user-agent");
    }
    // Expose-Headers counts on the response itself (not on the preflight): without it a page
    // cannot read grpc-status from a trailers-only answer, nor the rich error details.
    for (String call : List.of("/createBinary", "/listText", "/notFoundText")) {
      JsonNode cors = raw.at(call + "/cors");
      assertThat(cors.at("/access-control-allow-origin").asText())
          .as("%s", raw.at(call))
          .isEqualTo(allowedOrigin);
      assertThat(cors.at("/access-control-expose-headers").asText().toLowerCase())
          .as("%s", raw.at(call))
          .contains("grpc-status", "grpc-message", "grpc-status-details-bin");
    }
    for (String refused : List.of("/preflightDisallowed", "/postDisallowed")) {
      assertThat(raw.at(refused + "/status").asInt()).as("%s", raw.at(refused)).isEqualTo(403);
      assertThat(raw.at(refused + "/cors/access-control-allow-origin").isMissingNode())
          .as("%s", raw.at(refused))
          .isTrue();
    }
  }

  /** The response bodies Node got ({@code /raw}): message frames, then one trailer frame. */
  static void assertMessageFramesThenOneTrailerFrame(JsonNode raw) {
    for (String exchange : List.of("/createBinary", "/listText", "/listBinary")) {
      JsonNode answer = raw.at(exchange);
      assertThat(answer.at("/status").asInt()).as("%s", answer).isEqualTo(200);
      List<JsonNode> frames = list(answer.at("/frames"));
      assertThat(frames).as("%s", answer).hasSizeGreaterThanOrEqualTo(2);
      assertThat(frames.subList(0, frames.size() - 1))
          .allSatisfy(frame -> assertThat(frame.at("/kind").asText()).isEqualTo("data"));
      JsonNode trailer = frames.get(frames.size() - 1);
      assertThat(trailer.at("/kind").asText()).as("%s", answer).isEqualTo("trailer");
      assertThat(trailer.at("/trailers/grpc-status").asText()).isEqualTo("0");
      assertThat(answer.at("/leftoverBytes").asInt()).isZero();
    }
    assertThat(raw.at("/listText/contentType").asText()).startsWith("application/grpc-web-text");
    for (String exchange : List.of("/notFoundText", "/notFoundBinaryNoOrigin")) {
      JsonNode answer = raw.at(exchange);
      assertThat(answer.at("/status").asInt()).as("%s", answer).isEqualTo(200);
      JsonNode trailer = last(answer.at("/frames"));
      assertThat(trailer.at("/kind").asText()).as("%s", answer).isEqualTo("trailer");
      assertThat(trailer.at("/trailers/grpc-status").asText()).isEqualTo("5");
      assertThat(
              URLDecoder.decode(
                  trailer.at("/trailers/grpc-message").asText(), StandardCharsets.UTF_8))
          .isEqualTo("user " + UNKNOWN_ID + " not found");
    }
  }

  /**
   * The sample's demo page on the gRPC-Web port ({@code /demoPage}): a user created through the
   * form shows up in the streamed list, errors read "CODE: message", the other encoding lists the
   * same users, and every call, same origin, is answered without a preflight.
   */
  static void assertDemoPageWorked(JsonNode demo) {
    assertThat(demo.at("/error").isMissingNode()).as("%s", demo.at("/error")).isTrue();
    assertThat(demo.at("/title").asText()).contains("gRPC-Web");
    assertThat(demo.at("/created/state").asText()).as("%s", demo).isEqualTo("ok");
    assertThat(demo.at("/created/text").asText()).startsWith("Created Grace Hopper");
    assertThat(demo.at("/rowFound").asBoolean()).isTrue();
    assertThat(demo.at("/rowText").asText()).contains("Grace Hopper").containsPattern(UUID);
    assertThat(demo.at("/rowsAfterCreate").asInt()).isEqualTo(demo.at("/initialRows").asInt() + 1);
    assertThat(demo.at("/duplicate/text").asText()).startsWith("ALREADY_EXISTS: ");
    assertThat(demo.at("/invalid/text").asText()).startsWith("INVALID_ARGUMENT: ");
    assertThat(demo.at("/rowsBinary").asInt()).isEqualTo(demo.at("/rowsAfterCreate").asInt());
    assertThat(list(demo.at("/assets")))
        .extracting(asset -> asset.at("/path").asText() + " " + asset.at("/status").asInt())
        .contains("/ 200", "/demo.js 200", "/demo.css 200");
    // Same origin: no preflight, and every call answered.
    assertThat(list(demo.at("/calls")))
        .isNotEmpty()
        .allSatisfy(
            call -> {
              assertThat(call.at("/method").asText()).isEqualTo("POST");
              assertThat(call.at("/status").asInt()).isEqualTo(200);
            });
    assertThat(demo.at("/pageErrors")).isEmpty();
    assertThat(demo.at("/consoleErrors")).isEmpty();
  }

  /** Each screenshot is in {@link #OUT} and is a PNG of some size. */
  static void assertScreenshotsKept(List<String> names, JsonNode result) throws IOException {
    byte[] signature = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    for (String name : names) {
      Path file = OUT.resolve(name);
      assertThat(file)
          .as("screenshot %s; driver output %s", name, result.at("/screenshots"))
          .exists();
      byte[] bytes = Files.readAllBytes(file);
      assertThat(bytes.length).isGreaterThan(1000);
      assertThat(Arrays.copyOf(bytes, 8)).isEqualTo(signature);
    }
  }

  /** Checks a failed call's status code and returns its message for further checks. */
  static AbstractStringAssert<?> assertError(JsonNode call, Status.Code code) {
    assertThat(call.at("/ok").asBoolean()).as("%s", call).isFalse();
    assertThat(call.at("/codeName").asText()).as("%s", call).isEqualTo(code.name());
    assertThat(call.at("/code").asInt()).isEqualTo(code.value());
    return assertThat(call.at("/message").asText());
  }

  static List<JsonNode> list(JsonNode array) {
    return StreamSupport.stream(array.spliterator(), false).toList();
  }

  static JsonNode last(JsonNode array) {
    List<JsonNode> nodes = list(array);
    assertThat(nodes).isNotEmpty();
    return nodes.get(nodes.size() - 1);
  }

  static List<String> texts(JsonNode array) {
    return list(array).stream().map(JsonNode::asText).toList();
  }
}
