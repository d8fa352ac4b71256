package dev.chassis.benchmarks.servers;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.chassis.sample.user.v1.CreateUserRequest;
import dev.chassis.sample.user.v1.User;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The user service as JSON over HTTP/1.1 on the JDK's {@code com.sun.net.httpserver} (keep-alive, a
 * fixed handler pool), with the same {@code User} messages rendered by protobuf's {@link
 * JsonFormat} (compact, proto field names in lowerCamelCase as JsonFormat prints them):
 *
 * <ul>
 *   <li>{@code GET /v1/users/{id}}: 200 and the user; 404, 400 as NOT_FOUND, INVALID_ARGUMENT.
 *   <li>{@code GET /v1/users?page_size=N&page_token=T}: 200 and {@code {"users":[...]}}.
 *   <li>{@code POST /v1/users} with a {@code CreateUserRequest} as JSON: 200 and the user; 400, 409
 *       as INVALID_ARGUMENT, ALREADY_EXISTS.
 *   <li>{@code DELETE /v1/users/{id}}: 204.
 *   <li>{@code GET /__stats}: exchanges and bytes counted so far, as JSON; not counted itself.
 * </ul>
 *
 * <p>Errors are {@code {"code":HTTP,"status":"NOT_FOUND","message":"..."}}. Every exchange on
 * {@code /v1/users} is counted in {@link Outcomes} by the gRPC code its status stands for (2xx: OK;
 * errors: the code named in the body). Bytes are counted per exchange as HTTP/1.1 puts them on the
 * wire: request line, headers, blank line and body in; status line, the headers the JDK server sent
 * (with its Date and Content-length), blank line and body out. Request header spelling is the
 * server's parsed form, so a header's exact whitespace can differ by a byte; {@link
 * dev.chassis.benchmarks.wire.ByteCountingProxy} counts the exact bytes.
 */
final class RestUserServer implements AutoCloseable {
  private static final String JSON = "application/json";

  private final UserStore store;
  private final Outcomes outcomes;
  private final HttpServer server;
  private final ExecutorService executor;
  private final JsonFormat.Printer printer = JsonFormat.printer().omittingInsignificantWhitespace();
  private final JsonFormat.Parser parser = JsonFormat.parser();
  private final LongAdder exchanges = new LongAdder();
  private final LongAdder requestBytes = new LongAdder();
  private final LongAdder responseBytes = new LongAdder();

  /**
   * Binds and starts serving.
   *
   * @param threads handler threads
   */
  RestUserServer(UserStore store, Outcomes outcomes, InetSocketAddress address, int threads)
      throws IOException {
    this.store = store;
    this.outcomes = outcomes;
    // Without TCP_NODELAY small responses wait for the client's delayed ACK (about 40 ms on
    // Linux): a fair baseline must not pay that. Read once, when the JDK server class loads.
    System.setProperty("sun.net.httpserver.nodelay", "true");
    this.server = HttpServer.create(address, 1024);
    this.executor =
        Executors.newFixedThreadPool(
            threads,
            runnable -> {
              Thread thread = new Thread(runnable, "rest-handler");
              thread.setDaemon(true);
              return thread;
            });
    server.setExecutor(executor);
    server.createContext("/v1/users", this::handleUsers);
    server.createContext("/__stats", this::handleStats);
    server.start();
  }

  int port() {
    return server.getAddress().getPort();
  }

  /** Exchanges served on /v1/users. */
  long exchanges() {
    return exchanges.sum();
  }

  /** Bytes received on /v1/users: request lines, headers and bodies. */
  long requestBytes() {
    return requestBytes.sum();
  }

  /** Bytes sent on /v1/users: status lines, headers and bodies. */
  long responseBytes() {
    return responseBytes.sum();
  }

  /** The counters as one JSON object: exchanges, bytes, then outcomes by gRPC code. */
  String statsJson() {
    return String.format(
        Locale.ROOT,
        "{\"exchanges\":%d,\"request_bytes\":%d,\"response_bytes\":%d,\"outcomes\":%s}",
        exchanges(),
        requestBytes(),
        responseBytes(),
        outcomes.toJson());
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
    try {
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void handleStats(HttpExchange exchange) throws IOException {
    try (exchange) {
      exchange.getRequestBody().readAllBytes();
      send(exchange, 200, statsJson().getBytes(StandardCharsets.UTF_8));
    }
  }

  private void handleUsers(HttpExchange exchange) throws IOException {
    try (exchange) {
      byte[] body = exchange.getRequestBody().readAllBytes();
      long in = requestHeadBytes(exchange) + body.length;
      long out;
      try {
        out = route(exchange, body);
        outcomes.record(Status.Code.OK);
      } catch (StatusRuntimeException e) {
        out = sendError(exchange, e.getStatus());
        outcomes.record(e.getStatus().getCode());
      }
      exchanges.increment();
      requestBytes.add(in);
      responseBytes.add(out);
    }
  }

  /** Serves one exchange; returns the bytes sent. */
  private long route(HttpExchange exchange, byte[] body) throws IOException {
    String method = exchange.getRequestMethod();
    String path = exchange.getRequestURI().getRawPath();
    String rest = path.length() > "/v1/users".length() ? path.substring("/v1/users/".length()) : "";
    if (path.equals("/v1/users") || path.equals("/v1/users/")) {
      if (method.equals("GET")) {
        return list(exchange);
      }
      if (method.equals("POST")) {
        return create(exchange, body);
      }
    } else if (!rest.isEmpty() && !rest.contains("/") && path.startsWith("/v1/users/")) {
      String id = URLDecoder.decode(rest, StandardCharsets.UTF_8);
      if (method.equals("GET")) {
        return send(exchange, 200, json(store.get(id)));
      }
      if (method.equals("DELETE")) {
        store.delete(id);
        return send(exchange, 204, new byte[0]);
      }
    } else {
      throw Status.NOT_FOUND.withDescription("no such resource: " + path).asRuntimeException();
    }
    throw Status.UNIMPLEMENTED.withDescription(method + " " + path).asRuntimeException();
  }

  private long list(HttpExchange exchange) throws IOException {
    int pageSize = 0;
    String pageToken = "";
    String query = exchange.getRequestURI().getRawQuery();
    if (query != null) {
      for (String pair : query.split("&")) {
        int eq = pair.indexOf('=');
        String name = eq < 0 ? pair : pair.substring(0, eq);
        String value =
            eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
        switch (name) {
          case "page_size" -> {
            try {
              pageSize = Integer.parseInt(value);
            } catch (NumberFormatException e) {
              throw Status.INVALID_ARGUMENT
                  .withDescription("page_size: not a number: " + value)
                  .asRuntimeException();
            }
          }
          case "page_token" -> pageToken = value;
          default -> {}
        }
      }
    }
    List<User> users = store.list(pageSize, pageToken);
    StringBuilder json = new StringBuilder(64 + users.size() * 160).append("{\"users\":[");
    for (int i = 0; i < users.size(); i++) {
      if (i > 0) {
        json.append(',');
      }
      json.append(printer.print(users.get(i)));
    }
    json.append("]}");
    return send(exchange, 200, json.toString().getBytes(StandardCharsets.UTF_8));
  }

  private long create(HttpExchange exchange, byte[] body) throws IOException {
    CreateUserRequest.Builder request = CreateUserRequest.newBuilder();
    try {
      parser.merge(new String(body, StandardCharsets.UTF_8), request);
    } catch (InvalidProtocolBufferException e) {
      throw Status.INVALID_ARGUMENT
          .withDescription("body: not a CreateUserRequest: " + e.getMessage())
          .asRuntimeException();
    }
    return send(exchange, 200, json(store.create(request.getName(), request.getEmail())));
  }

  private byte[] json(User user) throws IOException {
    return printer.print(user).getBytes(StandardCharsets.UTF_8);
  }

  private long sendError(HttpExchange exchange, Status status) throws IOException {
    int http = httpStatus(status.getCode());
    String message = status.getDescription() == null ? "" : status.getDescription();
    String body =
        "{\"code\":"
            + http
            + ",\"status\":\""
            + status.getCode()
            + "\",\"message\":\""
            + message.replace("\\", "\\\\").replace("\"", "\\\"")
            + "\"}";
    return send(exchange, http, body.getBytes(StandardCharsets.UTF_8));
  }

  static int httpStatus(Status.Code code) {
    return switch (code) {
      case INVALID_ARGUMENT -> 400;
      case NOT_FOUND -> 404;
      case ALREADY_EXISTS -> 409;
      case UNIMPLEMENTED -> 405;
      default -> 500;
    };
  }

  /** Sends status and body; returns the bytes put on the wire for them. */
  private static long send(HttpExchange exchange, int code, byte[] body) throws IOException {
    Headers headers = exchange.getResponseHeaders();
    if (body.length > 0) {
      headers.set("Content-Type", JSON);
    }
    // -1: no body (204); otherwise a fixed Content-length, so the connection stays open.
    exchange.sendResponseHeaders(code, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
    // The JDK writes "HTTP/1.1 <code><reason>\r\n", then "Name: value\r\n" for every header it now
    // holds (Date and Content-length included), then "\r\n".
    long head = ("HTTP/1.1 " + code + reason(code) + "\r\n").length() + headerBytes(headers) + 2;
    return head + body.length;
  }

  private static long requestHeadBytes(HttpExchange exchange) {
    String requestLine =
        exchange.getRequestMethod()
            + " "
            + exchange.getRequestURI().toString()
            + " "
            + exchange.getProtocol()
            + "\r\n";
    return requestLine.getBytes(StandardCharsets.UTF_8).length
        + headerBytes(exchange.getRequestHeaders())
        + 2;
  }

  private static long headerBytes(Headers headers) {
    long bytes = 0;
    for (Map.Entry<String, List<String>> header : headers.entrySet()) {
      for (String value : header.getValue()) {
        bytes +=
            header.getKey().getBytes(StandardCharsets.ISO_8859_1).length
                + 2
                + value.getBytes(StandardCharsets.ISO_8859_1).length
                + 2;
      }
    }
    return bytes;
  }

  /** The reason phrases of the JDK server (sun.net.httpserver.Code), with their leading space. */
  private static String reason(int code) {
    return switch (code) {
      case 200 -> " OK";
      case 204 -> " No Content";
      case 400 -> " Bad Request";
      case 404 -> " Not Found";
      case 405 -> " Method Not Allowed";
      case 409 -> " Conflict";
      case 500 -> " Internal Server Error";
      default -> "";
    };
  }
}
