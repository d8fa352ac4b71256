package dev.chassis.benchmarks.wire;

import com.google.common.net.HostAndPort;
import dev.chassis.benchmarks.load.Targets;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.LongAdder;

/**
 * A TCP proxy that counts the bytes it forwards in each direction: the exact wire size of a
 * protocol's requests and responses (HTTP/2 frames, HPACK-compressed headers, gRPC message
 * prefixes; or HTTP/1.1 lines and headers), the same way for gRPC and REST, without touching either
 * side. TCP/IP headers and TLS are not counted (the proxy sees plaintext payload bytes).
 *
 * <p>Each accepted connection gets its own connection to the target and two threads copying bytes,
 * each direction flushed as read, with {@code TCP_NODELAY} on both legs. It adds a hop, so measure
 * latency without it and size with it. Closing the proxy closes every connection.
 *
 * <pre>{@code
 * java -cp ... dev.chassis.benchmarks.wire.ByteCountingProxy --listen 60051 --target 127.0.0.1:50051
 * }</pre>
 *
 * <p>The command line prints {@code upstream <bytes> downstream <bytes> connections <n>} on exit
 * (SIGINT/SIGTERM) and every {@code --report-seconds} (default 0: never).
 */
public final class ByteCountingProxy implements AutoCloseable {
  private static final int BUFFER = 64 * 1024;

  private final ServerSocket listener;
  private final InetSocketAddress target;
  private final LongAdder upstream = new LongAdder();
  private final LongAdder downstream = new LongAdder();
  private final LongAdder connections = new LongAdder();
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final Thread acceptor;
  private volatile boolean closed;

  private ByteCountingProxy(ServerSocket listener, InetSocketAddress target) {
    this.listener = listener;
    this.target = target;
    this.acceptor = new Thread(this::acceptLoop, "proxy-accept-" + listener.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /**
   * Listens on {@code listenAddress} (port 0 picks one) and forwards every connection to {@code
   * target}.
   *
   * @throws IOException when the port cannot be bound
   */
  public static ByteCountingProxy start(InetSocketAddress listenAddress, InetSocketAddress target)
      throws IOException {
    ServerSocket listener = new ServerSocket();
    listener.setReuseAddress(true);
    listener.bind(listenAddress, 1024);
    return new ByteCountingProxy(listener, target);
  }

  /** Listens on a free loopback port and forwards to {@code target}. */
  public static ByteCountingProxy onLoopback(InetSocketAddress target) throws IOException {
    return start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), target);
  }

  /** The port clients connect to. */
  public int port() {
    return listener.getLocalPort();
  }

  /** Bytes forwarded from clients to the target so far. */
  public long upstreamBytes() {
    return upstream.sum();
  }

  /** Bytes forwarded from the target to clients so far. */
  public long downstreamBytes() {
    return downstream.sum();
  }

  /** Client connections accepted so far. */
  public long connections() {
    return connections.sum();
  }

  /** Zeroes the byte and connection counters, such as after a warm-up. */
  public void reset() {
    upstream.reset();
    downstream.reset();
    connections.reset();
  }

  /** The counters as one line. */
  public String summary() {
    return String.format(
        Locale.ROOT,
        "upstream %d downstream %d connections %d",
        upstreamBytes(),
        downstreamBytes(),
        connections());
  }

  /** Stops accepting and closes every forwarded connection. */
  @Override
  public void close() {
    closed = true;
    closeQuietly(listener);
    for (Socket socket : open) {
      closeQuietly(socket);
    }
    try {
      acceptor.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = listener.accept();
      } catch (IOException e) {
        if (!closed) {
          System.err.println("proxy: accept failed: " + e);
        }
        return;
      }
      Socket server = new Socket();
      try {
        server.connect(target, 5_000);
        client.setTcpNoDelay(true);
        server.setTcpNoDelay(true);
      } catch (IOException e) {
        System.err.println("proxy: cannot reach " + target + ": " + e);
        closeQuietly(client);
        closeQuietly(server);
        continue;
      }
      connections.increment();
      open.add(client);
      open.add(server);
      Connection connection = new Connection(client, server);
      startPump(client, server, upstream, connection, "up");
      startPump(server, client, downstream, connection, "down");
    }
  }

  /** Closes both sockets once both directions ended. */
  private final class Connection {
    private final Socket client;
    private final Socket server;
    private final CountDownLatch directions = new CountDownLatch(2);

    Connection(Socket client, Socket server) {
      this.client = client;
      this.server = server;
    }

    void directionEnded() {
      directions.countDown();
      if (directions.getCount() == 0) {
        closeQuietly(client);
        closeQuietly(server);
        open.remove(client);
        open.remove(server);
      }
    }
  }

  private void startPump(
      Socket from, Socket to, LongAdder counter, Connection connection, String direction) {
    Thread thread =
        new Thread(
            () -> {
              byte[] buffer = new byte[BUFFER];
              try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                int read;
                while ((read = in.read(buffer)) >= 0) {
                  out.write(buffer, 0, read);
                  counter.add(read);
                }
                // Half-close: the other side sees end of stream, as without the proxy.
                to.shutdownOutput();
              } catch (SocketException e) {
                // Reset or closed by the peer or by close(): end both directions.
                closeQuietly(from);
                closeQuietly(to);
              } catch (IOException e) {
                closeQuietly(from);
                closeQuietly(to);
              } finally {
                connection.directionEnded();
              }
            },
            "proxy-" + direction + "-" + from.getPort());
    thread.setDaemon(true);
    thread.start();
  }

  private static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception e) {
      // Closing on the way out; nothing to do.
    }
  }

  /** Runs the proxy until the process is stopped; see the class comment for flags. */
  public static void main(String[] args) throws Exception {
    int listen = -1;
    String targetSpec = null;
    String host = "127.0.0.1";
    int reportSeconds = 0;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--listen" -> listen = Integer.parseInt(args[i + 1]);
        case "--listen-host" -> host = args[i + 1];
        case "--target" -> targetSpec = args[i + 1];
        case "--report-seconds" -> reportSeconds = Integer.parseInt(args[i + 1]);
        default -> {
          System.err.println("unknown flag: " + args[i]);
          System.exit(2);
        }
      }
    }
    HostAndPort parsed = null;
    try {
      parsed = targetSpec == null ? null : Targets.parse(targetSpec);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
    }
    if (listen < 0 || parsed == null) {
      System.err.println(
          "Usage: ByteCountingProxy --listen PORT --target HOST:PORT [--listen-host H]"
              + " [--report-seconds N]");
      System.exit(2);
      return;
    }
    InetSocketAddress target = new InetSocketAddress(parsed.getHost(), parsed.getPort());
    ByteCountingProxy proxy = start(new InetSocketAddress(host, listen), target);
    PrintStream out = System.out;
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  out.println(proxy.summary());
                  out.flush();
                  proxy.close();
                  stopped.countDown();
                },
                "proxy-stop"));
    out.println("proxy listening " + proxy.port() + " -> " + target);
    out.flush();
    while (!stopped.await(
        reportSeconds > 0 ? reportSeconds : 3600, java.util.concurrent.TimeUnit.SECONDS)) {
      if (reportSeconds > 0) {
        out.println(proxy.summary());
        out.flush();
      }
    }
  }
}
