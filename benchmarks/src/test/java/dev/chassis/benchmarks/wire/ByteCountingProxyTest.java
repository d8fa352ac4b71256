package dev.chassis.benchmarks.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.chassis.benchmarks.servers.BenchServers;
import dev.chassis.benchmarks.servers.BenchServers.BenchServer;
import dev.chassis.benchmarks.servers.BenchServers.Kind;
import dev.chassis.benchmarks.servers.BenchUserService;
import dev.chassis.sample.user.v1.GetUserRequest;
import dev.chassis.sample.user.v1.User;
import dev.chassis.sample.user.v1.UserServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ByteCountingProxyTest {
  @Test
  void forwardsAndCountsBothDirections() throws Exception {
    try (ServerSocket target = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      // Reads 1000 bytes, answers 2500, closes.
      Thread server =
          new Thread(
              () -> {
                try (Socket socket = target.accept()) {
                  socket.getInputStream().readNBytes(1000);
                  byte[] answer = new byte[2500];
                  Arrays.fill(answer, (byte) 7);
                  socket.getOutputStream().write(answer);
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      server.setDaemon(true);
      server.start();
      try (ByteCountingProxy proxy =
          ByteCountingProxy.onLoopback(
              new InetSocketAddress(InetAddress.getLoopbackAddress(), target.getLocalPort()))) {
        byte[] received;
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
          client.setSoTimeout(10_000);
          OutputStream out = client.getOutputStream();
          out.write(new byte[1000]);
          out.flush();
          InputStream in = client.getInputStream();
          received = in.readAllBytes();
        }

        assertThat(received).hasSize(2500).containsOnly((byte) 7);
        await()
            .atMost(Duration.ofSeconds(10))
            .untilAsserted(
                () -> {
                  assertThat(proxy.upstreamBytes()).isEqualTo(1000);
                  assertThat(proxy.downstreamBytes()).isEqualTo(2500);
                });
        assertThat(proxy.connections()).isEqualTo(1);
      }
    }
  }

  @Test
  void carriesGrpcCalls() throws Exception {
    try (BenchServer server = BenchServers.start(BenchServers.Settings.forLoopback(Kind.BARE));
        ByteCountingProxy proxy =
            ByteCountingProxy.onLoopback(new InetSocketAddress("127.0.0.1", server.port()))) {
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", proxy.port()).usePlaintext().build();
      try {
        User user =
            UserServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(10, TimeUnit.SECONDS)
                .getUser(GetUserRequest.newBuilder().setId(BenchUserService.seedId(1)).build());

        assertThat(user.getName()).isEqualTo("User 1");
        // At least the message itself each way, plus HTTP/2 preface, settings and headers.
        assertThat(proxy.upstreamBytes()).isGreaterThan(24 + 38);
        assertThat(proxy.downstreamBytes()).isGreaterThan(user.getSerializedSize());
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }
}
