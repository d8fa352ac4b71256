package dev.chassis.benchmarks.servers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.chassis.benchmarks.servers.BenchServers.BenchServer;
import dev.chassis.benchmarks.servers.BenchServers.Kind;
import dev.chassis.benchmarks.servers.BenchServers.Settings;
import dev.chassis.sample.user.v1.CreateUserRequest;
import dev.chassis.sample.user.v1.GetUserRequest;
import dev.chassis.sample.user.v1.User;
import dev.chassis.sample.user.v1.UserServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.benchmarks.proto.BenchmarkServiceGrpc;
import io.grpc.benchmarks.proto.Messages.Payload;
import io.grpc.benchmarks.proto.Messages.PayloadType;
import io.grpc.benchmarks.proto.Messages.SimpleRequest;
import io.grpc.benchmarks.proto.Messages.SimpleResponse;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class BenchServersTest {
  @ParameterizedTest
  @EnumSource(
      value = Kind.class,
      names = {"BARE", "CHASSIS", "CHASSIS_FULL"})
  void grpcKinds_answerGetUserAndTheSampleStatusCodes(Kind kind) throws Exception {
    try (BenchServer server = BenchServers.start(Settings.forLoopback(kind))) {
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
      try {
        UserServiceGrpc.UserServiceBlockingStub stub =
            UserServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);

        User user =
            stub.getUser(GetUserRequest.newBuilder().setId(BenchUserService.seedId(0)).build());

        assertThat(user.getName()).isEqualTo("User 0");
        assertThat(user.getEmail()).isEqualTo("user-0@example.com");
        assertThatThrownBy(() -> stub.getUser(GetUserRequest.newBuilder().setId("nope").build()))
            .isInstanceOfSatisfying(
                StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
        assertThatThrownBy(
                () ->
                    stub.getUser(
                        GetUserRequest.newBuilder().setId(BenchUserService.seedId(100)).build()))
            .isInstanceOfSatisfying(
                StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
        assertThatThrownBy(
                () ->
                    stub.createUser(
                        CreateUserRequest.newBuilder()
                            .setName("Again")
                            .setEmail("USER-1@example.com")
                            .build()))
            .isInstanceOfSatisfying(
                StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS));
        assertThat(server.stats())
            .isEqualTo(
                "{\"outcomes\":{\"OK\":1,\"INVALID_ARGUMENT\":1,\"NOT_FOUND\":1,"
                    + "\"ALREADY_EXISTS\":1}}");
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = Kind.class,
      names = {"BARE", "CHASSIS"})
  void grpcKinds_serveGrpcBenchmarkServiceUnaryCallWithTheAskedPayload(Kind kind) throws Exception {
    try (BenchServer server = BenchServers.start(Settings.forLoopback(kind))) {
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
      try {
        BenchmarkServiceGrpc.BenchmarkServiceBlockingStub stub =
            BenchmarkServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);

        SimpleResponse response =
            stub.unaryCall(
                SimpleRequest.newBuilder()
                    .setResponseType(PayloadType.COMPRESSABLE)
                    .setResponseSize(300)
                    .setPayload(Payload.newBuilder().setBody(ByteString.copyFrom(new byte[20])))
                    .build());

        assertThat(response.getPayload().getBody().size()).isEqualTo(300);
        assertThat(server.outcomes().count(Status.Code.OK)).isEqualTo(1);
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void rest_getUser_returnsJsonUserAndCountsBytes() throws Exception {
    try (BenchServer server = BenchServers.start(Settings.forLoopback(Kind.REST))) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      String base = "http://127.0.0.1:" + server.port();

      HttpResponse<String> user =
          client.send(
              HttpRequest.newBuilder(URI.create(base + "/v1/users/" + BenchUserService.seedId(0)))
                  .timeout(Duration.ofSeconds(10))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      HttpResponse<String> missing =
          client.send(
              HttpRequest.newBuilder(URI.create(base + "/v1/users/" + BenchUserService.seedId(100)))
                  .timeout(Duration.ofSeconds(10))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      HttpResponse<String> list =
          client.send(
              HttpRequest.newBuilder(URI.create(base + "/v1/users?page_size=3"))
                  .timeout(Duration.ofSeconds(10))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      HttpResponse<String> stats =
          client.send(
              HttpRequest.newBuilder(URI.create(base + "/__stats"))
                  .timeout(Duration.ofSeconds(10))
                  .build(),
              HttpResponse.BodyHandlers.ofString());

      assertThat(user.statusCode()).isEqualTo(200);
      assertThat(user.headers().firstValue("content-type")).hasValue("application/json");
      assertThat(user.body())
          .startsWith("{\"id\":\"" + BenchUserService.seedId(0) + "\",\"name\":\"User 0\"")
          .contains("\"createTime\":\"");
      assertThat(missing.statusCode()).isEqualTo(404);
      assertThat(missing.body()).contains("\"status\":\"NOT_FOUND\"");
      assertThat(list.statusCode()).isEqualTo(200);
      assertThat(list.body())
          .startsWith("{\"users\":[{")
          .containsSubsequence("\"id\"", "\"id\"", "\"id\"");
      assertThat(stats.body()).startsWith("{\"exchanges\":3,");
      assertThat(server.stats()).startsWith("{\"exchanges\":3,");
      long responseBodies = user.body().length() + missing.body().length() + list.body().length();
      assertThat(statValue(server.stats(), "response_bytes"))
          .isGreaterThan(responseBodies + 3 * 40);
      assertThat(statValue(server.stats(), "request_bytes")).isGreaterThan(3 * 40);
      // The JDK server counts after the response is written: the client can be a moment ahead.
      await()
          .atMost(Duration.ofSeconds(5))
          .untilAsserted(
              () ->
                  assertThat(server.stats()).endsWith(",\"outcomes\":{\"OK\":2,\"NOT_FOUND\":1}}"));
    }
  }

  private static long statValue(String json, String key) {
    int at = json.indexOf("\"" + key + "\":") + key.length() + 3;
    int end = at;
    while (end < json.length() && Character.isDigit(json.charAt(end))) {
      end++;
    }
    return Long.parseLong(json.substring(at, end));
  }
}
