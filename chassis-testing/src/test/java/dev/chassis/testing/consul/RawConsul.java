package dev.chassis.testing.consul;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Speaks to the double with the JDK's HTTP client, byte for byte as written here, so the tests do
 * not depend on any Consul client library.
 */
final class RawConsul {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private final URI base;

  RawConsul(URI base) {
    this.base = base;
  }

  /** A response with helpers for Consul's headers. */
  record Reply(int status, String body, java.net.http.HttpHeaders headers) {
    JsonNode json() {
      try {
        return MAPPER.readTree(body);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    long index() {
      return Long.parseLong(headers.firstValue("X-Consul-Index").orElseThrow());
    }
  }

  Reply get(String pathAndQuery) {
    return send("GET", pathAndQuery, "");
  }

  Reply put(String pathAndQuery, String body) {
    return send("PUT", pathAndQuery, body);
  }

  Reply send(String method, String pathAndQuery, String body) {
    try {
      return sendAsync(method, pathAndQuery, body).join();
    } catch (java.util.concurrent.CompletionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  CompletableFuture<Reply> sendAsync(String method, String pathAndQuery, String body) {
    HttpRequest request =
        HttpRequest.newBuilder(base.resolve(pathAndQuery))
            .timeout(Duration.ofSeconds(30))
            .method(
                method,
                body.isEmpty()
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body))
            .build();
    return client
        .sendAsync(request, HttpResponse.BodyHandlers.ofString())
        .thenApply(r -> new Reply(r.statusCode(), r.body(), r.headers()));
  }

  /** Sends and returns the raw exception instead of a reply, for connection-level failures. */
  Throwable failure(String method, String pathAndQuery) {
    try {
      sendAsync(method, pathAndQuery, "").join();
    } catch (java.util.concurrent.CompletionException e) {
      return e.getCause();
    }
    throw new AssertionError("expected " + method + " " + pathAndQuery + " to fail");
  }
}
