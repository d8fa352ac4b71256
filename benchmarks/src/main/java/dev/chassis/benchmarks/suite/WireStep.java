package dev.chassis.benchmarks.suite;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.chassis.benchmarks.servers.BenchServers;
import dev.chassis.benchmarks.servers.BenchServers.BenchServer;
import dev.chassis.benchmarks.servers.BenchServers.Kind;
import dev.chassis.benchmarks.servers.BenchUserService;
import dev.chassis.benchmarks.wire.ByteCountingProxy;
import dev.chassis.sample.user.v1.GetUserRequest;
import dev.chassis.sample.user.v1.ListUsersRequest;
import dev.chassis.sample.user.v1.User;
import dev.chassis.sample.user.v1.UserServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * Bytes on the wire per call, gRPC (protobuf over HTTP/2) against REST (JSON over HTTP/1.1
 * keep-alive), counted by a {@link ByteCountingProxy} between client and server: everything the
 * protocols send (frames, HPACK-compressed or plain headers, trailers, message prefixes, flow
 * control), not TCP/IP headers. Steady state: one connection, warmed up by the same calls, then
 * {@value #CALLS} calls counted.
 */
final class WireStep {
  private static final int CALLS = 200;
  private static final int WARMUP = 20;

  private final Suite suite;

  WireStep(Suite suite) {
    this.suite = suite;
  }

  /** Bytes per call each way, and the message bytes per response. */
  private record Size(double request, double response, double payload) {}

  /** One call shape. */
  private record Shape(String label, String restPath, int pageSize) {}

  void run() throws Exception {
    Shape[] shapes = {
      new Shape("GetUser", "/v1/users/" + BenchUserService.seedId(0), 0),
      new Shape("ListUsers, page of 10", "/v1/users?page_size=10", 10),
      new Shape("ListUsers, page of 100", "/v1/users?page_size=100", 100)
    };
    MarkdownTable table =
        new MarkdownTable(
            "call",
            ">gRPC request B",
            ">gRPC response B",
            ">REST request B",
            ">REST response B",
            ">response: gRPC vs REST",
            ">message: protobuf B",
            ">body: JSON B");
    boolean met = true;
    StringBuilder measured = new StringBuilder();
    try (BenchServer grpc = BenchServers.start(BenchServers.Settings.forLoopback(Kind.BARE));
        BenchServer rest = BenchServers.start(BenchServers.Settings.forLoopback(Kind.REST));
        ByteCountingProxy grpcProxy =
            ByteCountingProxy.onLoopback(new InetSocketAddress("127.0.0.1", grpc.port()));
        ByteCountingProxy restProxy =
            ByteCountingProxy.onLoopback(new InetSocketAddress("127.0.0.1", rest.port()))) {
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", grpcProxy.port()).usePlaintext().build();
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      try {
        for (Shape shape : shapes) {
          Size grpcSize = grpc(channel, grpcProxy, shape);
          Size restSize = rest(http, restProxy, shape);
          double fewer = 1 - grpcSize.response() / restSize.response();
          met &= fewer >= 0.6;
          measured
              .append(measured.length() == 0 ? "" : "; ")
              .append(shape.label())
              .append(Report.format(" %.0f%% fewer", fewer * 100));
          table.row(
              shape.label(),
              Samples.number(grpcSize.request(), 0),
              Samples.number(grpcSize.response(), 0),
              Samples.number(restSize.request(), 0),
              Samples.number(restSize.response(), 0),
              Report.format("%.0f%% fewer", fewer * 100),
              Samples.number(grpcSize.payload(), 0),
              Samples.number(restSize.payload(), 0));
          ObjectNode raw = Report.JSON.createObjectNode();
          raw.put("call", shape.label());
          raw.put("grpc_request", grpcSize.request()).put("grpc_response", grpcSize.response());
          raw.put("grpc_message", grpcSize.payload());
          raw.put("rest_request", restSize.request()).put("rest_response", restSize.response());
          raw.put("rest_body", restSize.payload());
          suite.report().raw("wire", raw);
        }
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
    suite
        .report()
        .section(
            "Bytes on the wire per call",
            Report.format(
                    "Counted by a TCP relay between client and server, %d calls on one warm"
                        + " connection after %d uncounted ones; per call, both directions; HTTP/2"
                        + " frames and HPACK-compressed headers (gRPC, grpc-java client) or HTTP/1.1"
                        + " lines and headers (REST, the JDK's HttpClient, which sends few headers;"
                        + " a browser sends more). Message and body columns: the serialized"
                        + " protobuf messages (without gRPC's 5-byte prefixes) and the JSON body.",
                    CALLS, WARMUP)
                + "\n\n"
                + table);
    suite
        .report()
        .target("gRPC responses ≥ 60% fewer bytes than REST/JSON", measured.toString(), met);
  }

  private static Size grpc(ManagedChannel channel, ByteCountingProxy proxy, Shape shape)
      throws Exception {
    UserServiceGrpc.UserServiceBlockingStub stub = UserServiceGrpc.newBlockingStub(channel);
    long payload = 0;
    for (int i = 0; i < WARMUP + CALLS; i++) {
      if (i == WARMUP) {
        settle(proxy);
        proxy.reset();
        payload = 0;
      }
      if (shape.pageSize() == 0) {
        User user =
            stub.getUser(GetUserRequest.newBuilder().setId(BenchUserService.seedId(0)).build());
        payload += user.getSerializedSize();
      } else {
        Iterator<User> users =
            stub.listUsers(ListUsersRequest.newBuilder().setPageSize(shape.pageSize()).build());
        while (users.hasNext()) {
          payload += users.next().getSerializedSize();
        }
      }
    }
    settle(proxy);
    return new Size(
        proxy.upstreamBytes() / (double) CALLS,
        proxy.downstreamBytes() / (double) CALLS,
        payload / (double) CALLS);
  }

  private static Size rest(HttpClient http, ByteCountingProxy proxy, Shape shape) throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + proxy.port() + shape.restPath());
    long payload = 0;
    for (int i = 0; i < WARMUP + CALLS; i++) {
      if (i == WARMUP) {
        settle(proxy);
        proxy.reset();
        payload = 0;
      }
      HttpResponse<byte[]> response =
          http.send(
              HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).GET().build(),
              HttpResponse.BodyHandlers.ofByteArray());
      if (response.statusCode() != 200) {
        throw new IOException(uri + " answered " + response.statusCode());
      }
      payload += response.body().length;
    }
    settle(proxy);
    return new Size(
        proxy.upstreamBytes() / (double) CALLS,
        proxy.downstreamBytes() / (double) CALLS,
        payload / (double) CALLS);
  }

  /**
   * Waits until the proxy's counters stop moving (its relay threads count after forwarding, and
   * HTTP/2 may still send a WINDOW_UPDATE or PING acknowledgement after the last response).
   */
  private static void settle(ByteCountingProxy proxy) throws TimeoutException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    long last = -1;
    while (true) {
      long now = proxy.upstreamBytes() + proxy.downstreamBytes();
      if (now == last) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new TimeoutException("the proxy's byte counts did not settle within 5 s");
      }
      last = now;
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
    }
  }
}
