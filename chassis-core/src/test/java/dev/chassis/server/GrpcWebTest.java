package dev.chassis.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.rpc.BadRequest;
import dev.chassis.ChassisConfig;
import dev.chassis.test.v1.TestRequest;
import dev.chassis.test.v1.TestResponse;
import dev.chassis.testsupport.GrpcWebTestClient;
import dev.chassis.testsupport.GrpcWebTestClient.Mode;
import dev.chassis.testsupport.GrpcWebTestClient.Reply;
import dev.chassis.testsupport.TestServers;
import dev.chassis.testsupport.TestServiceImpl;
import io.grpc.Context;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * gRPC-Web end to end over HTTP/1.1 against a real server: both modes, unary and server streaming,
 * the error model, the interceptor chain, metadata, CORS, limits, deadlines and cancellation. The
 * browser-side proof (the official grpc-web client in Chromium) is the sample's GrpcWebBrowserIT;
 * HTTP/2 is GrpcWebHttp2Test.
 */
class GrpcWebTest {
  private static final String UNARY = "chassis.test.v1.TestService/Unary";
  private static final String STREAM = "chassis.test.v1.TestService/ServerStream";
  private static final String ALLOWED = "http://app.example.com:8443";

  private static final Recorder recorder = new Recorder();
  private static PrometheusMeterRegistry registry;
  private static ChassisServer server;
  private static GrpcWebTestClient client;

  @BeforeAll
  static void start() throws Exception {
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    ChassisConfig config =
        TestServers.loopback(
            """
            chassis.grpc-web {
              host = 127.0.0.1
              port = 0
              allowed-origins = ["%s/"]
              max-message-size = 1 KiB
              cors-max-age = 90s
            }
            chassis.limits.rate.methods {
              "chassis.test.v1.TestService/Unary" { permits = 1000, period = 1s }
            }
            """
                .formatted(ALLOWED));
    server =
        ChassisServer.newBuilder(config)
            .addService(new TestServiceImpl())
            .intercept(recorder)
            .meterRegistry(registry)
            .grpcWebResources("grpc-web-test")
            .start();
    client = new GrpcWebTestClient(server.grpcWebPort());
  }

  @AfterAll
  static void stop() {
    server.close();
    registry.close();
  }

  private static byte[] request(String action, int count, int delayMs) {
    return GrpcWebTestClient.frame(
        TestRequest.newBuilder().setAction(action).setCount(count).setDelayMs(delayMs).build());
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void unary_answersWithTheMessageThenOkTrailers(Mode mode) throws Exception {
    Reply reply = client.call(UNARY, mode, request("ok", 0, 0));

    assertThat(reply.httpStatus()).isEqualTo(200);
    assertThat(reply.header("content-type"))
        .isEqualTo(
            mode == Mode.TEXT ? "application/grpc-web-text+proto" : "application/grpc-web+proto");
    assertThat(reply.messages(TestResponse.parser()))
        .extracting(TestResponse::getMessage)
        .containsExactly("test");
    assertThat(reply.grpcStatus()).isZero();
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void serverStreaming_sendsEveryMessageInOrder(Mode mode) throws Exception {
    Reply reply = client.call(STREAM, mode, request("count", 5, 0));

    assertThat(reply.messages(TestResponse.parser()))
        .extracting(TestResponse::getIndex)
        .containsExactly(0, 1, 2, 3, 4);
    assertThat(reply.grpcStatus()).isZero();
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void errors_keepTheErrorModel(Mode mode) throws Exception {
    Reply notFound = client.call(UNARY, mode, request("not-found", 0, 0));
    Reply invalid = client.call(UNARY, mode, request("invalid", 0, 0));
    Reply boom = client.call(UNARY, mode, request("boom", 0, 0));

    assertThat(notFound.messages()).isEmpty();
    assertThat(notFound.grpcStatus()).isEqualTo(Status.Code.NOT_FOUND.value());
    assertThat(notFound.grpcMessage()).contains("not found");
    assertThat(invalid.grpcStatus()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
    com.google.rpc.Status details =
        com.google.rpc.Status.parseFrom(
            Base64.getDecoder().decode(invalid.trailers().get("grpc-status-details-bin")));
    assertThat(details.getDetails(0).unpack(BadRequest.class).getFieldViolationsList())
        .extracting(BadRequest.FieldViolation::getField)
        .containsExactlyInAnyOrder("name", "email");
    assertThat(boom.grpcStatus()).isEqualTo(Status.Code.INTERNAL.value());
    assertThat(boom.trailers().toString()).doesNotContain("SELECT").doesNotContain("com.acme");
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void streamingRequests_andUnknownMethods_areUnimplemented(Mode mode) throws Exception {
    Reply bidi = client.call("chassis.test.v1.TestService/BidiStream", mode, request("ok", 0, 0));
    Reply unknown = client.call("chassis.test.v1.TestService/Nope", mode, request("ok", 0, 0));

    assertThat(bidi.httpStatus()).isEqualTo(200);
    assertThat(bidi.grpcStatus()).isEqualTo(Status.Code.UNIMPLEMENTED.value());
    assertThat(bidi.grpcMessage())
        .contains("bidi-streaming")
        .contains("unary and server-streaming");
    assertThat(unknown.grpcStatus()).isEqualTo(Status.Code.UNIMPLEMENTED.value());
    assertThat(unknown.grpcMessage()).contains("Method not found");
  }

  @Test
  void calls_goThroughTheChassisChain() throws Exception {
    client.call(UNARY, Mode.BINARY, request("not-found", 0, 0), "x-tenant", "blue");

    ServerCall<?, ?> call = recorder.lastCall(UNARY);
    assertThat(recorder.lastHeaders(UNARY).get(key("x-tenant"))).isEqualTo("blue");
    assertThat(recorder.lastHeaders(UNARY).containsKey(key("content-type"))).isFalse();
    SocketAddress peer = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    assertThat(((InetSocketAddress) peer).getAddress().isLoopbackAddress()).isTrue();
    assertThat(registry.scrape())
        .containsPattern(
            "grpc_server_call_duration_seconds_count\\{[^}]*grpc_method=\"chassis.test.v1.TestService/Unary\""
                + "[^}]*grpc_status=\"NOT_FOUND\"");
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                registry.get("grpc.server.call.active").tag("grpc.method", UNARY).gauge().value()
                    == 0);
  }

  @Test
  void metadata_travelsBothWays() throws Exception {
    String binary = Base64.getEncoder().encodeToString(new byte[] {1, 2, 3});

    client.call(UNARY, Mode.TEXT, request("ok", 0, 0), "x-trace-bin", binary);

    assertThat(
            recorder
                .lastHeaders(UNARY)
                .get(Metadata.Key.of("x-trace-bin", Metadata.BINARY_BYTE_MARSHALLER)))
        .containsExactly(1, 2, 3);
  }

  @Test
  void deadline_fromGrpcTimeout_endsTheCallAndCancelsTheHandler() throws Exception {
    Reply reply =
        client.call(STREAM, Mode.BINARY, request("count", 20, 100), "grpc-timeout", "300m");

    assertThat(reply.grpcStatus()).isEqualTo(Status.Code.DEADLINE_EXCEEDED.value());
    assertThat(reply.messages().size()).isBetween(0, 4);
    await().atMost(Duration.ofSeconds(10)).until(() -> recorder.events(STREAM).contains("cancel"));
  }

  @Test
  void browserGoingAway_cancelsTheCall() throws Exception {
    byte[] body = request("count", 20, 100);
    try (Socket socket = new Socket("127.0.0.1", server.grpcWebPort())) {
      OutputStream out = socket.getOutputStream();
      out.write(
          ("POST /"
                  + STREAM
                  + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  + "Content-Type: application/grpc-web+proto\r\nContent-Length: "
                  + body.length
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.write(body);
      out.flush();
      InputStream in = socket.getInputStream();
      byte[] first = new byte[12];
      assertThat(in.read(first)).as("the response started").isPositive();
      assertThat(new String(first, StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 200");
    }

    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> recorder.events(STREAM).containsAll(List.of("context-cancelled", "cancel")));
    assertThat(recorder.events(STREAM)).doesNotContain("complete");
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void oversizedMessages_areResourceExhausted(Mode mode) throws Exception {
    byte[] big =
        GrpcWebTestClient.frame(TestRequest.newBuilder().setPayload("x".repeat(2048)).build());

    Reply reply = client.call(UNARY, mode, big);

    assertThat(reply.grpcStatus()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED.value());
    assertThat(reply.grpcMessage()).contains("exceeds maximum size 1024");
  }

  @Test
  void malformedBodies_areInternal() throws Exception {
    Reply truncated = client.call(UNARY, Mode.BINARY, new byte[] {0, 0, 0, 0, 9, 1});
    Reply notProto =
        client.call(UNARY, Mode.BINARY, GrpcWebTestClient.frame(new byte[] {(byte) 0xff}));
    Reply compressed = client.call(UNARY, Mode.BINARY, new byte[] {1, 0, 0, 0, 0});

    assertThat(truncated.grpcStatus()).isEqualTo(Status.Code.INTERNAL.value());
    assertThat(notProto.grpcStatus()).isEqualTo(Status.Code.INTERNAL.value());
    assertThat(compressed.grpcStatus()).isEqualTo(Status.Code.UNIMPLEMENTED.value());
  }

  @Test
  void cors_preflightFromAnAllowedOrigin_isAnswered() throws Exception {
    HttpResponse<byte[]> preflight =
        client.send(
            "OPTIONS",
            "/" + UNARY,
            "Origin",
            ALLOWED,
            "Access-Control-Request-Method",
            "POST",
            "Access-Control-Request-Headers",
            "content-type,x-grpc-web,x-user-agent,x-tenant");

    assertThat(preflight.statusCode()).isEqualTo(204);
    assertThat(preflight.headers().firstValue("access-control-allow-origin")).hasValue(ALLOWED);
    assertThat(preflight.headers().firstValue("access-control-allow-methods")).hasValue("POST");
    assertThat(preflight.headers().firstValue("access-control-allow-headers"))
        .hasValue("content-type,x-grpc-web,x-user-agent,x-tenant");
    assertThat(preflight.headers().firstValue("access-control-max-age")).hasValue("90");
  }

  @Test
  void cors_aCallFromAnAllowedOrigin_exposesTheGrpcHeaders() throws Exception {
    Reply reply = client.call(UNARY, Mode.TEXT, request("ok", 0, 0), "Origin", ALLOWED);

    assertThat(reply.grpcStatus()).isZero();
    assertThat(reply.header("access-control-allow-origin")).isEqualTo(ALLOWED);
    assertThat(reply.header("access-control-expose-headers"))
        .contains("grpc-status")
        .contains("grpc-message");
  }

  @Test
  void cors_otherOrigins_areRefused() throws Exception {
    ServerCall<?, ?> lastBefore = recorder.lastCall(UNARY);
    HttpResponse<byte[]> preflight =
        client.send(
            "OPTIONS",
            "/" + UNARY,
            "Origin",
            "https://evil.example",
            "Access-Control-Request-Method",
            "POST");
    Reply call =
        client.call(UNARY, Mode.BINARY, request("ok", 0, 0), "Origin", "https://evil.example");

    assertThat(preflight.statusCode()).isEqualTo(403);
    assertThat(preflight.headers().firstValue("access-control-allow-origin")).isEmpty();
    assertThat(call.httpStatus()).isEqualTo(403);
    assertThat(call.header("access-control-allow-origin")).isNull();
    assertThat(recorder.lastCall(UNARY)).as("the service never saw it").isSameAs(lastBefore);
  }

  @Test
  void cors_theServersOwnOrigin_isAlwaysAllowed() throws Exception {
    String own = "http://127.0.0.1:" + server.grpcWebPort();

    Reply reply = client.call(UNARY, Mode.BINARY, request("ok", 0, 0), "Origin", own);

    assertThat(reply.grpcStatus()).isZero();
    assertThat(reply.header("access-control-allow-origin")).isEqualTo(own);
  }

  @Test
  void staticResources_areServedByGet() throws Exception {
    HttpResponse<byte[]> index = client.send("GET", "/");
    HttpResponse<byte[]> missing = client.send("GET", "/nothing.js");
    HttpResponse<byte[]> escape = client.send("GET", "/../logback-test.xml");
    HttpResponse<byte[]> wrongMethod = client.send("PUT", "/");
    HttpResponse<byte[]> notGrpcWeb =
        client.send("POST", "/" + UNARY, "content-type", "application/json");

    assertThat(index.statusCode()).isEqualTo(200);
    assertThat(index.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
    assertThat(new String(index.body(), StandardCharsets.UTF_8)).contains("gRPC-Web test page");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(escape.statusCode()).isEqualTo(404);
    assertThat(wrongMethod.statusCode()).isEqualTo(405);
    assertThat(notGrpcWeb.statusCode()).isEqualTo(415);
  }

  @Test
  void drain_letsCallsInFlightFinish_thenStopsAccepting() throws Exception {
    ChassisServer draining =
        ChassisServer.newBuilder(
                TestServers.loopback("chassis.grpc-web { host = 127.0.0.1, port = 0 }"))
            .addService(new TestServiceImpl())
            .start();
    GrpcWebTestClient web = new GrpcWebTestClient(draining.grpcWebPort());
    java.util.concurrent.CompletableFuture<Reply> inFlight =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () -> {
              try {
                return web.call(STREAM, Mode.BINARY, request("count", 4, 250));
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    await().atMost(Duration.ofSeconds(10)).until(() -> recorderSawStart(draining));

    draining.close();

    Reply reply = inFlight.get(10, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(reply.messages()).hasSize(4);
    assertThat(reply.grpcStatus()).isZero();
    assertThat(
            org.assertj.core.api.Assertions.catchThrowable(
                () -> web.call(UNARY, Mode.BINARY, request("ok", 0, 0))))
        .as("the port is closed")
        .isInstanceOf(java.net.ConnectException.class);
  }

  private static boolean recorderSawStart(ChassisServer server) {
    return server.meterRegistry().find("grpc.server.call.started").counters().stream()
        .anyMatch(
            counter -> counter.getId().getTag("grpc.method").equals(STREAM) && counter.count() > 0);
  }

  private static Metadata.Key<String> key(String name) {
    return Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER);
  }

  /** Records, per method, the last call and headers and what its listener and context saw. */
  static final class Recorder implements ServerInterceptor {
    private final Map<String, ServerCall<?, ?>> calls = new ConcurrentHashMap<>();
    private final Map<String, Metadata> headers = new ConcurrentHashMap<>();
    private final Map<String, List<String>> events = new ConcurrentHashMap<>(); // the last call's

    ServerCall<?, ?> lastCall(String method) {
      return calls.get(method);
    }

    Metadata lastHeaders(String method) {
      return headers.get(method);
    }

    /** What the last call of {@code method} saw. */
    List<String> events(String method) {
      return events.getOrDefault(method, List.of());
    }

    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
        ServerCall<ReqT, RespT> call, Metadata metadata, ServerCallHandler<ReqT, RespT> next) {
      String method = call.getMethodDescriptor().getFullMethodName();
      calls.put(method, call);
      headers.put(method, metadata);
      List<String> seen = new CopyOnWriteArrayList<>(List.of("start"));
      events.put(method, seen);
      Context.current()
          .addListener(
              context -> seen.add("context-cancelled"),
              com.google.common.util.concurrent.MoreExecutors.directExecutor());
      return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
          next.startCall(call, metadata)) {
        @Override
        public void onCancel() {
          seen.add("cancel");
          super.onCancel();
        }

        @Override
        public void onComplete() {
          seen.add("complete");
          super.onComplete();
        }
      };
    }
  }
}
