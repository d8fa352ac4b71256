package dev.chassis.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.chassis.internal.health.ReadinessMonitor;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin endpoint on the JDK's HTTP server: {@code /metrics}, {@code /health/live}, {@code
 * /health/ready}. Plain HTTP on its own port, for the orchestrator and Prometheus only.
 */
final class AdminHttpServer implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(AdminHttpServer.class);
  private static final String JSON = "application/json";
  private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private final HttpServer server;
  private final ExecutorService executor;

  private AdminHttpServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  static AdminHttpServer start(
      String host,
      int port,
      PrometheusMeterRegistry registry,
      Supplier<ReadinessMonitor.Snapshot> readiness)
      throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 0);
    ExecutorService executor =
        Executors.newFixedThreadPool(
            2,
            runnable -> {
              Thread thread = new Thread(runnable, "chassis-admin");
              thread.setDaemon(true);
              return thread;
            });
    server.setExecutor(executor);
    server.createContext(
        "/health/live", exchange -> respond(exchange, 200, JSON, "{\"status\":\"UP\"}"));
    server.createContext(
        "/health/ready",
        exchange -> {
          ReadinessMonitor.Snapshot snapshot = readiness.get();
          respond(exchange, snapshot.ready() ? 200 : 503, JSON, readinessJson(snapshot));
        });
    server.createContext(
        "/metrics",
        exchange -> {
          String accept = exchange.getRequestHeaders().getFirst("Accept");
          String contentType =
              accept != null && accept.contains("openmetrics")
                  ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                  : PROMETHEUS_TEXT;
          respond(exchange, 200, contentType, registry.scrape(contentType));
        });
    server.createContext(
        "/", exchange -> respond(exchange, 404, JSON, "{\"error\":\"not found\"}"));
    server.start();
    return new AdminHttpServer(server, executor);
  }

  int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  /**
   * {@code {"status":"READY","checks":{"database":"UP"}}}; when not ready the status is {@code
   * NOT_READY}, {@code STARTING} or {@code DRAINING} and {@code failing} names the failed checks.
   */
  static String readinessJson(ReadinessMonitor.Snapshot snapshot) {
    String status;
    if (snapshot.draining()) {
      status = "DRAINING";
    } else if (!snapshot.started()) {
      status = "STARTING";
    } else {
      status = snapshot.ready() ? "READY" : "NOT_READY";
    }
    StringBuilder json =
        new StringBuilder("{\"status\":\"").append(status).append("\",\"checks\":{");
    StringBuilder failing = new StringBuilder();
    boolean first = true;
    for (Map.Entry<String, Boolean> check : snapshot.checks().entrySet()) {
      json.append(first ? "" : ",").append(quote(check.getKey())).append(':');
      json.append(check.getValue() ? "\"UP\"" : "\"DOWN\"");
      if (!check.getValue()) {
        failing.append(failing.length() == 0 ? "" : ",").append(quote(check.getKey()));
      }
      first = false;
    }
    json.append("},\"failing\":[").append(failing).append("]}");
    return json.toString();
  }

  private static String quote(String value) {
    StringBuilder quoted = new StringBuilder("\"");
    for (char c : value.toCharArray()) {
      if (c == '"' || c == '\\') {
        quoted.append('\\').append(c);
      } else if (c < 0x20) {
        quoted.append(String.format("\\u%04x", (int) c));
      } else {
        quoted.append(c);
      }
    }
    return quoted.append('"').toString();
  }

  private static void respond(HttpExchange exchange, int code, String contentType, String body)
      throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      if (code != 404 && !path.equals(exchange.getHttpContext().getPath())) {
        // Contexts match by prefix; only the exact paths exist.
        respond(exchange, 404, JSON, "{\"error\":\"not found\"}");
        return;
      }
      String method = exchange.getRequestMethod();
      if (!method.equals("GET") && !method.equals("HEAD")) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", contentType);
      exchange.getResponseHeaders().set("Cache-Control", "no-store");
      if (method.equals("HEAD")) {
        exchange.sendResponseHeaders(code, -1);
        return;
      }
      exchange.sendResponseHeaders(code, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    } catch (IOException | RuntimeException e) {
      logger.debug("admin request {} failed", exchange.getRequestURI(), e);
      throw e;
    }
  }
}
