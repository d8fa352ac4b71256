package ${package};

import static org.assertj.core.api.Assertions.assertThat;

import ${package}.v1.Create${serviceName}Request;
import ${package}.v1.Get${serviceName}Request;
import ${package}.v1.${serviceName};
import ${package}.v1.${serviceName}ServiceGrpc;
import dev.chassis.Chassis;
import dev.chassis.ChassisConfig;
import dev.chassis.server.ChassisServer;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The whole service as main wires it, on a real port, called over the network. */
class ${serviceName}ServiceIntegrationTest {
  private static final String SERVER_CONFIG =
      "chassis { grpc { host = 127.0.0.1, port = 0 }, admin.port = -1 }\n"
          + "chassis.shutdown { drain-delay = 0s, handle-signals = false }";

  private ChassisServer server;
  private ChassisConfig config;

  @BeforeEach
  void start() throws Exception {
    config = ChassisConfig.of(SERVER_CONFIG);
    server = ${serviceName}ServiceMain.start(config);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void servesHealthAndTheApiOverTheNetwork() throws Exception {
    var builder = NettyChannelBuilder.forAddress("127.0.0.1", server.port());
    ManagedChannel channel = builder.usePlaintext().build();
    try {
      var health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
      var check = health.check(HealthCheckRequest.getDefaultInstance());
      var stub = ${serviceName}ServiceGrpc.newBlockingStub(channel);
      var api = stub.withDeadlineAfter(10, TimeUnit.SECONDS);
      ${serviceName} created = api.create${serviceName}(create("over the network"));

      assertThat(check.getStatus()).isEqualTo(ServingStatus.SERVING);
      assertThat(api.get${serviceName}(byId(created.getId()))).isEqualTo(created);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void answersThroughAChassisChannel() throws Exception {
    // What another service does: a Chassis channel, here to a fixed address instead of Consul.
    String target = "static:///127.0.0.1:" + server.port();
    var clientConfig = config.with("chassis.clients.${protoName}.target = \"" + target + "\"");
    ManagedChannel channel = Chassis.channel(clientConfig, "${protoName}").build();
    try {
      var api = ${serviceName}ServiceGrpc.newBlockingStub(channel);
      ${serviceName} created = api.create${serviceName}(create("through Chassis"));
      ${serviceName} fetched = api.get${serviceName}(byId(created.getId()));

      assertThat(fetched.getName()).isEqualTo("through Chassis");
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static Create${serviceName}Request create(String name) {
    return Create${serviceName}Request.newBuilder().setName(name).build();
  }

  private static Get${serviceName}Request byId(String id) {
    return Get${serviceName}Request.newBuilder().setId(id).build();
  }
}
