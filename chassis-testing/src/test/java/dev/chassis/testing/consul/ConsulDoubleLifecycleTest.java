package dev.chassis.testing.consul;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Active checks, reaping, and the hooks that make Consul misbehave. */
class ConsulDoubleLifecycleTest {

  private static final Duration PATIENCE = Duration.ofSeconds(10);

  @Test
  void grpcCheck_probesTheServersHealthService() throws Exception {
    HealthStatusManager health = new HealthStatusManager();
    Server server =
        NettyServerBuilder.forAddress(
                new InetSocketAddress("127.0.0.1", 0), InsecureServerCredentials.create())
            .addService(health.getHealthService())
            .build()
            .start();
    try (ConsulDouble consul = ConsulDouble.start()) {
      RawConsul http = new RawConsul(consul.address());
      String target = "127.0.0.1:" + server.getPort() + "/greeter";
      health.setStatus("greeter", ServingStatus.SERVING);

      http.put(
          "/v1/agent/service/register",
          "{\"Name\":\"greeter\",\"ID\":\"greeter-1\",\"Port\":"
              + server.getPort()
              + ",\"Check\":{\"GRPC\":\""
              + target
              + "\",\"Interval\":\"1s\",\"Timeout\":\"2s\"}}");

      awaitCheck(consul, "service:greeter-1", "passing", "gRPC check " + target + ": success");
      assertThat(new RawConsul(consul.address()).get("/v1/health/service/greeter?passing").json())
          .hasSize(1);

      health.setStatus("greeter", ServingStatus.NOT_SERVING);

      awaitCheck(
          consul,
          "service:greeter-1",
          "critical",
          "gRPC " + target + " serving status: NOT_SERVING");

      health.setStatus("greeter", ServingStatus.SERVING);
      awaitCheck(consul, "service:greeter-1", "passing", "gRPC check " + target + ": success");
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);

      await()
          .atMost(PATIENCE)
          .untilAsserted(
              () -> {
                ConsulDouble.Check check = consul.check("service:greeter-1").orElseThrow();
                assertThat(check.status()).isEqualTo("critical");
                assertThat(check.output()).startsWith("rpc error: code = Unavailable desc = ");
              });
      assertThat(http.get("/v1/health/service/greeter?passing").json()).isEmpty();
    } finally {
      server.shutdownNow();
    }
  }

  @Test
  void httpAndTcpChecks_probeTheirTargets() throws Exception {
    AtomicInteger httpStatus = new AtomicInteger(200);
    HttpServer target = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    target.createContext(
        "/health",
        exchange -> {
          byte[] body = "ok".getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(httpStatus.get(), body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    target.start();
    ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    String url = "http://127.0.0.1:" + target.getAddress().getPort() + "/health";
    String tcp = "127.0.0.1:" + listener.getLocalPort();
    try (ConsulDouble consul = ConsulDouble.start()) {
      new RawConsul(consul.address())
          .put(
              "/v1/agent/service/register",
              "{\"Name\":\"web\",\"Checks\":[{\"CheckID\":\"http\",\"HTTP\":\""
                  + url
                  + "\",\"Interval\":\"1s\"},{\"CheckID\":\"tcp\",\"TCP\":\""
                  + tcp
                  + "\",\"Interval\":\"1s\"}]}");

      awaitCheck(consul, "http", "passing", "HTTP GET " + url + ": 200 OK Output: ok");
      awaitCheck(consul, "tcp", "passing", "TCP connect " + tcp + ": Success");

      httpStatus.set(429);
      listener.close();

      awaitCheck(
          consul, "http", "warning", "HTTP GET " + url + ": 429 Too Many Requests Output: ok");
      awaitCheck(consul, "tcp", "critical", "dial tcp " + tcp + ": connect: connection refused");
    } finally {
      target.stop(0);
      listener.close();
    }
  }

  @Test
  void intervalCheck_thresholdsNeedConsecutiveResults() throws Exception {
    AtomicInteger httpStatus = new AtomicInteger(200);
    AtomicInteger successesServed = new AtomicInteger();
    AtomicInteger failuresServed = new AtomicInteger();
    HttpServer target = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    target.createContext(
        "/",
        exchange -> {
          int status = httpStatus.get();
          (status == 200 ? successesServed : failuresServed).incrementAndGet();
          exchange.sendResponseHeaders(status, -1);
          exchange.close();
        });
    target.start();
    String url = "http://127.0.0.1:" + target.getAddress().getPort() + "/";
    try (ConsulDouble consul = ConsulDouble.start()) {
      new RawConsul(consul.address())
          .put(
              "/v1/agent/service/register",
              "{\"Name\":\"web\",\"Check\":{\"CheckID\":\"http\",\"HTTP\":\""
                  + url
                  + "\",\"Interval\":\"1s\",\"SuccessBeforePassing\":2,"
                  + "\"FailuresBeforeCritical\":2}}");
      // Consul starts the counters at their thresholds: the first result counts at once.
      await().atMost(PATIENCE).until(() -> status(consul, "http").equals("passing"));

      httpStatus.set(500);
      await().atMost(PATIENCE).until(() -> status(consul, "http").equals("critical"));
      assertThat(failuresServed.get()).isGreaterThanOrEqualTo(2);

      int successesBefore = successesServed.get();
      httpStatus.set(200);
      await().atMost(PATIENCE).until(() -> status(consul, "http").equals("passing"));
      assertThat(successesServed.get() - successesBefore).isGreaterThanOrEqualTo(2);
    } finally {
      target.stop(0);
    }
  }

  private static String status(ConsulDouble consul, String checkId) {
    return consul.check(checkId).orElseThrow().status();
  }

  @Test
  void grpcCheck_withProbingOff_isDrivenBySetCheckStatus() {
    try (ConsulDouble consul = ConsulDouble.newBuilder().grpcChecks(false).start()) {
      RawConsul http = new RawConsul(consul.address());
      http.put(
          "/v1/agent/service/register",
          "{\"Name\":\"g\",\"Check\":{\"GRPC\":\"127.0.0.1:1\",\"Interval\":\"1s\"}}");
      long index = http.get("/v1/health/service/g").index();

      consul.setCheckStatus("service:g", "passing", "forced");

      RawConsul.Reply reply = http.get("/v1/health/service/g?passing");
      assertThat(reply.json()).hasSize(1);
      assertThat(reply.index()).isGreaterThan(index);
      assertThat(consul.check("service:g").orElseThrow().output()).isEqualTo("forced");
      assertThatThrownBy(() -> consul.setCheckStatus("service:g", "ok", ""))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("status: ok (expected: passing, warning or critical)");
      assertThatThrownBy(() -> consul.setCheckStatus("nope", "passing", ""))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void reaping_onTheVirtualClock_respectsConsulsMinimum() {
    try (ConsulDouble consul =
        ConsulDouble.newBuilder().reapInterval(Duration.ofMillis(100)).start()) {
      RawConsul http = new RawConsul(consul.address());
      http.put(
          "/v1/agent/service/register",
          "{\"Name\":\"one\",\"Check\":{\"TTL\":\"1h\",\"DeregisterCriticalServiceAfter\":\"1m\"}}");
      http.put(
          "/v1/agent/service/register",
          "{\"Name\":\"low\",\"Check\":{\"TTL\":\"1h\",\"DeregisterCriticalServiceAfter\":\"10s\"}}");
      // The countdown starts with the first critical report, as in Consul.
      http.put("/v1/agent/check/fail/service:one", "");
      http.put("/v1/agent/check/fail/service:low", "");

      consul.advanceTime(Duration.ofSeconds(30));

      assertThat(consul.instance("one")).isPresent();
      assertThat(consul.instance("low")).isPresent(); // 10s was raised to the 1 min minimum

      consul.advanceTime(Duration.ofSeconds(31));

      assertThat(consul.instance("one")).isEmpty();
      assertThat(consul.instance("low")).isEmpty();
      assertThat(consul.check("service:one")).isEmpty();
      assertThat(http.get("/v1/health/service/one").body()).isEqualTo("[]");
    }
  }

  @Test
  void reaping_inRealTime_withAShortMinimum() {
    try (ConsulDouble consul =
        ConsulDouble.newBuilder()
            .reapInterval(Duration.ofMillis(100))
            .minDeregisterCriticalServiceAfter(Duration.ofMillis(200))
            .start()) {
      RawConsul http = new RawConsul(consul.address());
      http.put(
          "/v1/agent/service/register",
          "{\"Name\":\"a\",\"Check\":{\"TTL\":\"1h\",\"DeregisterCriticalServiceAfter\":\"300ms\"}}");
      http.put("/v1/agent/check/fail/service:a", "");

      await().atMost(PATIENCE).until(() -> consul.instance("a").isEmpty());
    }
  }

  @Test
  void stopServing_refusesConnectionsAndAbortsPolls_resumeServingKeepsPortAndState()
      throws Exception {
    try (ConsulDouble consul = ConsulDouble.start()) {
      RawConsul http = new RawConsul(consul.address());
      http.put("/v1/agent/service/register", "{\"Name\":\"a\",\"Check\":{\"TTL\":\"1h\"}}");
      long index = http.get("/v1/health/service/a").index();
      CompletableFuture<RawConsul.Reply> poll =
          new RawConsul(consul.address())
              .sendAsync("GET", "/v1/health/service/a?index=" + index + "&wait=60s", "");
      await()
          .atMost(PATIENCE)
          .until(() -> consul.requests().stream().anyMatch(r -> r.rawQuery().contains("wait=")));

      consul.stopServing();

      Throwable aborted = catchThrowable(() -> poll.get(PATIENCE.toSeconds(), TimeUnit.SECONDS));
      assertThat(aborted)
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(IOException.class);
      assertThat(new RawConsul(consul.address()).failure("GET", "/v1/status/leader"))
          .isInstanceOf(ConnectException.class);

      consul.resumeServing();

      RawConsul again = new RawConsul(consul.address());
      assertThat(again.get("/v1/health/service/a").json()).hasSize(1);
      assertThat(consul.address().getPort()).isEqualTo(consul.port());
    }
  }

  @Test
  void close_releasesThePort() {
    ConsulDouble consul = ConsulDouble.start();
    RawConsul http = new RawConsul(consul.address());
    assertThat(http.get("/v1/status/leader").status()).isEqualTo(200);

    consul.close();
    consul.close();

    assertThat(new RawConsul(consul.address()).failure("GET", "/v1/status/leader"))
        .isInstanceOf(ConnectException.class);
    assertThatThrownBy(consul::resumeServing).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void builderAndHooks_validateTheirArguments() {
    assertThatThrownBy(() -> ConsulDouble.newBuilder().reapInterval(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("reapInterval: PT0S (expected: > 0)");
    assertThatThrownBy(() -> ConsulDouble.newBuilder().datacenter(""))
        .isInstanceOf(IllegalArgumentException.class);
    try (ConsulDouble consul = ConsulDouble.start()) {
      assertThatThrownBy(() -> consul.advanceTime(Duration.ofSeconds(-1)))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> consul.setNodeHealth("warning"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("status: warning (expected: passing or critical)");
      assertThatThrownBy(() -> consul.failNext("/v1/", 42, ""))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  private static void awaitCheck(
      ConsulDouble consul, String checkId, String status, String output) {
    await()
        .atMost(PATIENCE)
        .untilAsserted(
            () -> {
              ConsulDouble.Check check = consul.check(checkId).orElseThrow();
              assertThat(check.status()).isEqualTo(status);
              assertThat(check.output()).isEqualTo(output);
            });
  }
}
