package dev.chassis.internal.grpcweb;

import dev.chassis.ChassisConfig;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.netty.bootstrap.ServerBootstrap;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.ByteBufUtil;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.ChannelInitializer;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.ChannelPipeline;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.SocketChannel;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.handler.codec.ByteToMessageDecoder;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpServerCodec;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2CodecUtil;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2FrameCodec;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Settings;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.grpc.netty.shaded.io.netty.handler.ssl.ApplicationProtocolConfig;
import io.grpc.netty.shaded.io.netty.handler.ssl.ApplicationProtocolNames;
import io.grpc.netty.shaded.io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;
import io.grpc.netty.shaded.io.netty.handler.timeout.IdleStateEvent;
import io.grpc.netty.shaded.io.netty.handler.timeout.IdleStateHandler;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC-Web port: HTTP/1.1 and HTTP/2 (ALPN over TLS, prior knowledge in clear text) on Netty
 * (the copy grpc-netty-shaded carries, so no second Netty), CORS, and calls handed to the same
 * service definitions, interceptors included, that the gRPC server runs.
 *
 * <p>Lifecycle mirrors grpc's {@code Server}: {@link #shutdown()} stops accepting and lets calls in
 * flight finish (HTTP/2 connections get GOAWAY, HTTP/1.1 ones close after their response), {@link
 * #awaitTermination} waits for them, {@link #shutdownNow()} cancels what is left, {@link #close()}
 * releases the threads.
 */
public final class GrpcWebServer implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(GrpcWebServer.class);
  private static final long GOAWAY_TIMEOUT_MILLIS = TimeUnit.MINUTES.toMillis(10);

  /** What a drain tells every connection. */
  enum Drain {
    INSTANCE
  }

  private final Map<String, ServerMethodDefinition<?, ?>> methods;
  private final Executor executor;
  private final CorsPolicy cors;
  private final ChassisConfig.GrpcWeb settings;
  private final @Nullable StaticResources resources;
  private final boolean tls;
  private final EventLoopGroup group;
  private final Set<Channel> connections = ConcurrentHashMap.newKeySet();
  private final Set<GrpcWebCall<?, ?>> calls = new HashSet<>(); // guarded by itself
  private volatile boolean shutdown;
  private @Nullable Channel listener;

  private GrpcWebServer(
      ChassisConfig.GrpcWeb settings,
      List<ServerServiceDefinition> services,
      Executor executor,
      @Nullable StaticResources resources,
      boolean tls) {
    Map<String, ServerMethodDefinition<?, ?>> byName = new HashMap<>();
    for (ServerServiceDefinition service : services) {
      for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
        byName.put(method.getMethodDescriptor().getFullMethodName(), method);
      }
    }
    this.methods = Map.copyOf(byName);
    this.executor = executor;
    this.cors = new CorsPolicy(settings.allowedOrigins(), settings.corsMaxAge());
    this.settings = settings;
    this.resources = resources;
    this.tls = tls;
    this.group =
        new MultiThreadIoEventLoopGroup(
            1, new DefaultThreadFactory("chassis-grpc-web", true), NioIoHandler.newFactory());
  }

  /**
   * Binds and serves.
   *
   * @param services the definitions the gRPC server runs, already wrapped in its interceptors
   * @param executor where handlers run: the gRPC server's executor
   * @param resources files served by GET, or null
   * @param tls the gRPC port's credentials, or null for clear text
   * @throws IOException when the port cannot be bound
   */
  public static GrpcWebServer start(
      ChassisConfig.GrpcWeb settings,
      List<ServerServiceDefinition> services,
      Executor executor,
      @Nullable StaticResources resources,
      @Nullable TlsServerCredentials tls)
      throws IOException {
    GrpcWebServer server = new GrpcWebServer(settings, services, executor, resources, tls != null);
    try {
      server.bind(tls == null ? null : sslContext(tls));
      return server;
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
  }

  private void bind(@Nullable SslContext ssl) throws IOException {
    ServerBootstrap bootstrap =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel channel) {
                    connections.add(channel);
                    channel.closeFuture().addListener(closed -> connections.remove(channel));
                    if (ssl != null) {
                      channel
                          .pipeline()
                          .addLast(ssl.newHandler(channel.alloc()), new AlpnHandler());
                    } else {
                      channel.pipeline().addLast(new PriorKnowledgeDetector());
                    }
                  }
                });
    try {
      listener =
          bootstrap
              .bind(new InetSocketAddress(settings.host(), settings.port()))
              .syncUninterruptibly()
              .channel();
    } catch (RuntimeException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IOException(
          "gRPC-Web: cannot bind " + settings.host() + ":" + settings.port() + ": " + e, e);
    }
  }

  private static SslContext sslContext(TlsServerCredentials credentials) throws SSLException {
    List<KeyManager> keyManagers = credentials.getKeyManagers();
    if (keyManagers == null || keyManagers.isEmpty()) {
      throw new IllegalStateException("TLS credentials without a key manager");
    }
    SslContextBuilder builder =
        SslContextBuilder.forServer(keyManagers.get(0))
            .sslProvider(SslProvider.JDK)
            .applicationProtocolConfig(
                new ApplicationProtocolConfig(
                    ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                    ApplicationProtocolNames.HTTP_2,
                    ApplicationProtocolNames.HTTP_1_1));
    List<TrustManager> trustManagers = credentials.getTrustManagers();
    if (trustManagers != null && !trustManagers.isEmpty()) {
      builder.trustManager(trustManagers.get(0));
    }
    builder.clientAuth(
        switch (credentials.getClientAuth()) {
          case REQUIRE -> ClientAuth.REQUIRE;
          case OPTIONAL -> ClientAuth.OPTIONAL;
          case NONE -> ClientAuth.NONE;
        });
    return builder.build();
  }

  /** The port bound (useful with port 0). */
  public int port() {
    Channel bound = listener;
    return bound == null ? -1 : ((InetSocketAddress) bound.localAddress()).getPort();
  }

  /**
   * Stops accepting: the port closes, HTTP/2 connections get GOAWAY and HTTP/1.1 connections close
   * once their call finished; requests that still arrive get UNAVAILABLE.
   */
  public void shutdown() {
    shutdown = true;
    Channel bound = listener;
    if (bound != null) {
      bound.close().syncUninterruptibly();
    }
    for (Channel connection : connections) {
      connection.pipeline().fireUserEventTriggered(Drain.INSTANCE);
    }
  }

  /** Waits until no call is in flight; returns whether none is. */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + Math.max(0, timeout.toNanos());
    synchronized (calls) {
      while (!calls.isEmpty()) {
        long remaining = deadline - System.nanoTime();
        if (remaining <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(calls, remaining);
      }
      return true;
    }
  }

  /**
   * Cancels the calls still in flight: their handlers hear {@code onCancel}, browsers get
   * UNAVAILABLE where the connection still takes it.
   */
  public void shutdownNow() {
    shutdown();
    List<GrpcWebCall<?, ?>> inFlight;
    synchronized (calls) {
      inFlight = List.copyOf(calls);
    }
    for (GrpcWebCall<?, ?> call : inFlight) {
      call.cancel(Status.UNAVAILABLE.withDescription("server is shutting down"));
    }
  }

  /** Cancels what is left, closes every connection and stops the event loop. */
  @Override
  public void close() {
    shutdownNow();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  // What the connection handlers share.

  @Nullable ServerMethodDefinition<?, ?> method(String fullMethodName) {
    return methods.get(fullMethodName);
  }

  Executor executor() {
    return executor;
  }

  ScheduledExecutorService scheduler() {
    return group;
  }

  CorsPolicy cors() {
    return cors;
  }

  ChassisConfig.GrpcWeb settings() {
    return settings;
  }

  @Nullable StaticResources resources() {
    return resources;
  }

  String scheme() {
    return tls ? "https" : "http";
  }

  boolean isShutdown() {
    return shutdown;
  }

  void callStarted(GrpcWebCall<?, ?> call) {
    synchronized (calls) {
      calls.add(call);
    }
  }

  void callEnded(GrpcWebCall<?, ?> call) {
    synchronized (calls) {
      calls.remove(call);
      if (calls.isEmpty()) {
        calls.notifyAll();
      }
    }
  }

  private void http1(ChannelPipeline pipeline) {
    int maxHeaders = settings.maxHeaderSize();
    pipeline.addLast(new HttpServerCodec(8192, maxHeaders, 16 * 1024));
    pipeline.addLast(new HttpServerExpectContinueHandler());
    pipeline.addLast(idleHandler());
    pipeline.addLast(new GrpcWebHandler(this, false));
  }

  private void http2(ChannelPipeline pipeline) {
    Http2FrameCodec codec =
        Http2FrameCodecBuilder.forServer()
            .initialSettings(
                Http2Settings.defaultSettings()
                    .maxConcurrentStreams(1000)
                    .maxHeaderListSize(settings.maxHeaderSize()))
            // A drain's GOAWAY waits this long for streams; shutdownNow() ends them sooner.
            .gracefulShutdownTimeoutMillis(GOAWAY_TIMEOUT_MILLIS)
            .build();
    pipeline.addLast(idleHandler());
    pipeline.addLast(new Http2Connection(codec));
    pipeline.addLast(codec);
    pipeline.addLast(
        new Http2MultiplexHandler(
            new ChannelInitializer<Channel>() {
              @Override
              protected void initChannel(Channel stream) {
                stream
                    .pipeline()
                    .addLast(
                        new Http2StreamFrameToHttpObjectCodec(true),
                        new GrpcWebHandler(GrpcWebServer.this, true));
              }
            }));
  }

  private IdleStateHandler idleHandler() {
    return new IdleStateHandler(0, 0, settings.idleTimeout().toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Clear text: HTTP/2 when the connection starts with its preface, else HTTP/1.1. */
  private final class PriorKnowledgeDetector extends ByteToMessageDecoder {
    private static final ByteBuf PREFACE = Http2CodecUtil.connectionPrefaceBuf();

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
      int length = Math.min(in.readableBytes(), PREFACE.readableBytes());
      if (!ByteBufUtil.equals(in, in.readerIndex(), PREFACE, 0, length)) {
        http1(ctx.pipeline());
        ctx.pipeline().remove(this);
      } else if (length == PREFACE.readableBytes()) {
        http2(ctx.pipeline());
        ctx.pipeline().remove(this);
      }
    }
  }

  /** TLS: the protocol ALPN chose. */
  private final class AlpnHandler extends ApplicationProtocolNegotiationHandler {
    AlpnHandler() {
      super(ApplicationProtocolNames.HTTP_1_1);
    }

    @Override
    protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
      if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
        http2(ctx.pipeline());
      } else {
        http1(ctx.pipeline());
      }
    }

    @Override
    protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
      logger.debug("gRPC-Web TLS handshake with {} failed", ctx.channel().remoteAddress(), cause);
      ctx.close();
    }
  }

  /**
   * An HTTP/2 connection's own events: a drain sends GOAWAY and closes once its streams ended; an
   * idle connection with no stream open closes.
   */
  private static final class Http2Connection extends ChannelInboundHandlerAdapter {
    private final Http2FrameCodec codec;

    Http2Connection(Http2FrameCodec codec) {
      this.codec = codec;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
      if (event == Drain.INSTANCE) {
        // Http2ConnectionHandler's close: GOAWAY, then close when the last stream ended.
        ctx.channel().close();
        return;
      }
      if (event instanceof IdleStateEvent && codec.connection().numActiveStreams() == 0) {
        ctx.channel().close();
        return;
      }
      super.userEventTriggered(ctx, event);
    }
  }
}
