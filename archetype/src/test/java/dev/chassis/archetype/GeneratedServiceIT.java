package dev.chassis.archetype;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The jar of the project the archetype ITs generated ({@code projects/order}) run as users run it:
 * health SERVING, {@code order.v1.OrderService} listed by reflection, {@code /metrics}, and exit
 * status 0 on SIGTERM. Runs after archetype:integration-test built that project.
 */
class GeneratedServiceIT {
  private static final Path JAR =
      Path.of("target/test-classes/projects/order/project/order-service/target/order-service.jar");

  @Test
  @Timeout(120)
  void generatedJar_servesHealthReflectionAndMetrics_andExitsZeroOnSigterm() throws Exception {
    assertThat(JAR).isRegularFile();
    int grpcPort = freePort();
    int adminPort = freePort();
    ProcessBuilder builder =
        new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-jar",
            JAR.toString());
    builder.environment().put("CHASSIS_GRPC_PORT", Integer.toString(grpcPort));
    builder.environment().put("CHASSIS_ADMIN_PORT", Integer.toString(adminPort));
    Path log = Files.createTempFile("order-service", ".log");
    builder.redirectErrorStream(true).redirectOutput(log.toFile());
    Process process = builder.start();
    HttpClient http = HttpClient.newHttpClient();
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .until(() -> get(http, adminPort, "/health/ready").statusCode() == 200);

      var health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
      assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
          .isEqualTo(ServingStatus.SERVING);
      assertThat(listServices(channel)).contains("order.v1.OrderService", "grpc.health.v1.Health");
      HttpResponse<String> metrics = get(http, adminPort, "/metrics");
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.body()).contains("process_uptime_seconds");
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      process.toHandle().destroy();
    }
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("exited within 30 s").isTrue();
    assertThat(process.exitValue()).as("exit status; log: %s", log).isZero();
  }

  private static HttpResponse<String> get(HttpClient http, int port, String path)
      throws IOException, InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(5))
            .build();
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  private static List<String> listServices(ManagedChannel channel) throws Exception {
    CompletableFuture<List<String>> names = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> requests =
        ServerReflectionGrpc.newStub(channel)
            .withDeadlineAfter(10, TimeUnit.SECONDS)
            .serverReflectionInfo(
                new StreamObserver<>() {
                  @Override
                  public void onNext(ServerReflectionResponse response) {
                    List<String> found = new ArrayList<>();
                    for (ServiceResponse service :
                        response.getListServicesResponse().getServiceList()) {
                      found.add(service.getName());
                    }
                    names.complete(found);
                  }

                  @Override
                  public void onError(Throwable t) {
                    names.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {
                    names.complete(List.of());
                  }
                });
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("*").build());
    requests.onCompleted();
    return names.get(10, TimeUnit.SECONDS);
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
