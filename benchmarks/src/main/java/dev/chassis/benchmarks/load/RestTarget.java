package dev.chassis.benchmarks.load;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;

/**
 * Calls one REST endpoint with the JDK's {@link HttpClient} over HTTP/1.1 with keep-alive. The
 * client opens one connection per call in flight and keeps them for the next calls, so the
 * connection count follows the concurrency ({@code --connections} does not apply). Response bodies
 * are read in full and not parsed.
 */
final class RestTarget implements CallTarget {
  private final HttpClient client;
  private final ExecutorService executor;
  private final String method;
  private final String description;
  private final LongFunction<String> paths;
  private final LongFunction<String> bodies;
  private final String base;
  private final Duration timeout;

  /**
   * @param method HTTP method
   * @param paths the path and query of call {@code n}
   * @param bodies the body of call {@code n}; empty for none
   */
  RestTarget(
      String host,
      int port,
      String method,
      String pathTemplate,
      LongFunction<String> paths,
      LongFunction<String> bodies,
      Duration timeout) {
    this.executor =
        Executors.newFixedThreadPool(
            2,
            runnable -> {
              Thread thread = new Thread(runnable, "rest-load-client");
              thread.setDaemon(true);
              return thread;
            });
    this.client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .executor(executor)
            .connectTimeout(timeout)
            .build();
    this.method = method;
    this.description = method + " " + pathTemplate;
    this.paths = paths;
    this.bodies = bodies;
    this.base = "http://" + host + ":" + port;
    this.timeout = timeout;
  }

  @Override
  public void start(long sequence, int connection, Completion completion) {
    String body = bodies.apply(sequence);
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base + paths.apply(sequence))).timeout(timeout);
    if (body.isEmpty()) {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      request
          .header("Content-Type", "application/json")
          .method(method, HttpRequest.BodyPublishers.ofString(body));
    }
    client
        .sendAsync(request.build(), HttpResponse.BodyHandlers.ofByteArray())
        .whenComplete(
            (response, failure) -> {
              if (failure != null) {
                Throwable cause = failure.getCause() != null ? failure.getCause() : failure;
                completion.done("ERROR:" + cause.getClass().getSimpleName(), false, 0);
              } else {
                int status = response.statusCode();
                completion.done(Integer.toString(status), status / 100 == 2, 1);
              }
            });
  }

  @Override
  public String describe() {
    return description;
  }

  @Override
  public void close() {
    executor.shutdownNow();
    try {
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
