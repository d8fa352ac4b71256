package dev.chassis.internal.grpcweb;

import dev.chassis.internal.grpcweb.GrpcWebCodec.Format;
import dev.chassis.internal.grpcweb.GrpcWebCodec.MalformedException;
import io.grpc.Attributes;
import io.grpc.Context;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.ByteBufUtil;
import io.grpc.netty.shaded.io.netty.buffer.CompositeByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelFutureListener;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.handler.codec.TooLongFrameException;
import io.grpc.netty.shaded.io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.grpc.netty.shaded.io.netty.handler.codec.http.DefaultHttpContent;
import io.grpc.netty.shaded.io.netty.handler.codec.http.DefaultHttpResponse;
import io.grpc.netty.shaded.io.netty.handler.codec.http.FullHttpResponse;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpContent;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpHeaderNames;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpHeaderValues;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpHeaders;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpMethod;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpRequest;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpResponse;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpResponseStatus;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpUtil;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpVersion;
import io.grpc.netty.shaded.io.netty.handler.codec.http.LastHttpContent;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import io.grpc.netty.shaded.io.netty.handler.timeout.IdleStateEvent;
import io.grpc.netty.shaded.io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP/1.1 connection, or one HTTP/2 stream: reads a request, answers CORS preflights and
 * static files, and runs gRPC-Web calls. An HTTP/1.1 connection runs one call at a time; requests a
 * client pipelines meanwhile wait, unread, until it ended.
 */
final class GrpcWebHandler extends ChannelInboundHandlerAdapter {
  private static final Logger logger = LoggerFactory.getLogger(GrpcWebHandler.class);

  /** Largest body accepted on a request that is not a gRPC-Web call. */
  private static final int MAX_OTHER_BODY = 64 * 1024;

  private final GrpcWebServer server;
  private final boolean http2;
  private final Queue<Object> deferred = new ArrayDeque<>();

  // Event-loop state for the request being read and the call it started.
  private @Nullable HttpRequest request;
  private @Nullable Format format; // the request's, null when it is not gRPC-Web
  private @Nullable CompositeByteBuf body;
  private int bodyLimit;
  private boolean discarding;
  private boolean keepAlive = true;
  private @Nullable GrpcWebCall<?, ?> call; // in flight; an HTTP/1.1 connection runs one at a time

  GrpcWebHandler(GrpcWebServer server, boolean http2) {
    this.server = server;
    this.http2 = http2;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (call != null) {
      // HTTP/1.1 pipelining: hold the next request until this call's response is complete.
      deferred.add(msg);
      ctx.channel().config().setAutoRead(false);
      return;
    }
    read(ctx, msg);
  }

  private void read(ChannelHandlerContext ctx, Object msg) {
    try {
      if (msg instanceof HttpRequest started) {
        begin(ctx, started);
      }
      if (msg instanceof HttpContent content) {
        append(ctx, content);
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void begin(ChannelHandlerContext ctx, HttpRequest started) {
    releaseBody();
    discarding = false;
    format = null;
    if (started.decoderResult().isFailure()) {
      Throwable cause = started.decoderResult().cause();
      HttpResponseStatus status =
          cause instanceof TooLongFrameException
              ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
              : HttpResponseStatus.BAD_REQUEST;
      keepAlive = false;
      discarding = true;
      respond(ctx, status);
      return;
    }
    keepAlive = http2 || HttpUtil.isKeepAlive(started);
    request = started;
    format = Format.of(started.headers().get(HttpHeaderNames.CONTENT_TYPE));
    bodyLimit =
        started.method().equals(HttpMethod.POST) && format != null
            ? bodyLimit(format, server.settings().maxMessageSize())
            : MAX_OTHER_BODY;
    body = ctx.alloc().compositeBuffer(Integer.MAX_VALUE);
  }

  private void append(ChannelHandlerContext ctx, HttpContent content) {
    HttpRequest current = request;
    CompositeByteBuf buffer = body;
    if (discarding || current == null || buffer == null) {
      return;
    }
    ByteBuf chunk = content.content();
    if (buffer.readableBytes() + (long) chunk.readableBytes() > bodyLimit) {
      tooLarge(ctx, current, buffer.readableBytes() + (long) chunk.readableBytes());
      return;
    }
    if (chunk.isReadable()) {
      buffer.addComponent(true, chunk.retain());
    }
    if (content instanceof LastHttpContent) {
      byte[] bytes = ByteBufUtil.getBytes(buffer);
      releaseBody();
      request = null;
      dispatch(ctx, current, bytes);
    }
  }

  /** A body beyond any message the limit allows: answer now, read no more of it. */
  private void tooLarge(ChannelHandlerContext ctx, HttpRequest current, long size) {
    releaseBody();
    request = null;
    discarding = true;
    keepAlive = false; // the rest of the body is still coming; the connection cannot be reused
    Format format = this.format;
    if (format != null && current.method().equals(HttpMethod.POST)) {
      respondStatus(
          ctx,
          current,
          format,
          GrpcWebCodec.tooLarge(
              size - GrpcWebCodec.HEADER_LENGTH, server.settings().maxMessageSize()));
    } else {
      respond(ctx, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE);
    }
  }

  private void dispatch(ChannelHandlerContext ctx, HttpRequest current, byte[] bytes) {
    HttpHeaders headers = current.headers();
    String origin = headers.get(HttpHeaderNames.ORIGIN);
    String own =
        server.scheme() + "://" + headers.get(HttpHeaderNames.HOST, "").toLowerCase(Locale.ROOT);
    if (!server.cors().allows(origin, own)) {
      logger.debug("gRPC-Web: origin {} is not allowed ({})", origin, current.uri());
      respond(ctx, HttpResponseStatus.FORBIDDEN);
      return;
    }
    HttpMethod method = current.method();
    if (method.equals(HttpMethod.OPTIONS)) {
      preflight(ctx, current, origin);
      return;
    }
    Format format = this.format;
    if (method.equals(HttpMethod.POST) && format != null) {
      startCall(ctx, current, format, origin, bytes);
      return;
    }
    if (method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD)) {
      staticFile(ctx, current);
      return;
    }
    if (method.equals(HttpMethod.POST)) {
      respond(ctx, HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE);
      return;
    }
    respond(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED);
  }

  private void preflight(ChannelHandlerContext ctx, HttpRequest current, @Nullable String origin) {
    HttpHeaders headers = current.headers();
    FullHttpResponse response =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT);
    if (origin != null && headers.contains(HttpHeaderNames.ACCESS_CONTROL_REQUEST_METHOD)) {
      HttpHeaders out = response.headers();
      out.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, origin);
      out.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, "POST");
      String requested = headers.get(HttpHeaderNames.ACCESS_CONTROL_REQUEST_HEADERS);
      if (requested != null) {
        // The origin is trusted: it may send metadata under any name.
        out.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, requested);
      }
      out.set(HttpHeaderNames.ACCESS_CONTROL_MAX_AGE, server.cors().maxAgeSeconds());
      out.set(
          HttpHeaderNames.VARY,
          "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
    } else {
      response.headers().set(HttpHeaderNames.ALLOW, "POST, OPTIONS");
    }
    write(ctx, response);
  }

  private void staticFile(ChannelHandlerContext ctx, HttpRequest current) {
    StaticResources resources = server.resources();
    String path = current.uri().split("[?#]", 2)[0];
    StaticResources.Resource resource = null;
    if (resources != null) {
      try {
        resource = resources.find(path);
      } catch (IOException e) {
        logger.error("gRPC-Web: reading {} from {} failed", path, resources, e);
        respond(ctx, HttpResponseStatus.INTERNAL_SERVER_ERROR);
        return;
      }
    }
    if (resource == null) {
      respond(ctx, HttpResponseStatus.NOT_FOUND);
      return;
    }
    boolean head = current.method().equals(HttpMethod.HEAD);
    FullHttpResponse response =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1,
            HttpResponseStatus.OK,
            head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(resource.content()));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, resource.contentType());
    response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-cache");
    response.headers().set("X-Content-Type-Options", "nosniff");
    response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, resource.content().length);
    write(ctx, response);
  }

  @SuppressWarnings("unchecked")
  private void startCall(
      ChannelHandlerContext ctx,
      HttpRequest current,
      Format format,
      @Nullable String origin,
      byte[] bytes) {
    HttpHeaders headers = current.headers();
    String path = current.uri().split("[?#]", 2)[0];
    String fullMethodName = path.startsWith("/") ? path.substring(1) : path;
    if (server.isShutdown()) {
      keepAlive = false;
      respondStatus(
          ctx, current, format, Status.UNAVAILABLE.withDescription("server is shutting down"));
      return;
    }
    String encoding = headers.get("grpc-encoding");
    if (encoding != null && !encoding.equalsIgnoreCase("identity")) {
      respondStatus(
          ctx,
          current,
          format,
          Status.UNIMPLEMENTED.withDescription(
              "grpc-encoding " + encoding + " is not supported; gRPC-Web messages are identity"));
      return;
    }
    ServerMethodDefinition<?, ?> definition = server.method(fullMethodName);
    if (definition == null) {
      respondStatus(
          ctx,
          current,
          format,
          Status.UNIMPLEMENTED.withDescription("Method not found: " + fullMethodName));
      return;
    }
    MethodDescriptor.MethodType type = definition.getMethodDescriptor().getType();
    if (type != MethodDescriptor.MethodType.UNARY
        && type != MethodDescriptor.MethodType.SERVER_STREAMING) {
      respondStatus(
          ctx,
          current,
          format,
          Status.UNIMPLEMENTED.withDescription(
              fullMethodName
                  + " is "
                  + type.name().toLowerCase(Locale.ROOT).replace('_', '-')
                  + "; gRPC-Web serves unary and server-streaming methods only"));
      return;
    }
    List<byte[]> messages;
    Long timeoutNanos;
    Metadata metadata = new Metadata();
    try {
      byte[] decoded = format == Format.TEXT ? GrpcWebCodec.decodeText(bytes) : bytes;
      messages = GrpcWebCodec.messages(decoded, server.settings().maxMessageSize());
      timeoutNanos = GrpcWebCodec.timeoutNanos(headers.get("grpc-timeout"));
      for (Map.Entry<String, String> header : headers) {
        if (!GrpcWebCodec.addRequestHeader(metadata, header.getKey(), header.getValue())) {
          throw new MalformedException(
              Status.INTERNAL.withDescription("malformed metadata header " + header.getKey()));
        }
      }
    } catch (MalformedException e) {
      respondStatus(ctx, current, format, e.status());
      return;
    }
    Context.CancellableContext context =
        timeoutNanos == null
            ? Context.ROOT.withCancellation()
            : Context.ROOT.withDeadlineAfter(
                timeoutNanos, TimeUnit.NANOSECONDS, server.scheduler());
    Channel channel = ctx.channel();
    boolean closeAfter = !keepAlive;
    AtomicReference<GrpcWebCall<?, ?>> started = new AtomicReference<>();
    GrpcWebCall<Object, Object> created =
        new GrpcWebCall<>(
            channel,
            (MethodDescriptor<Object, Object>) definition.getMethodDescriptor(),
            format,
            attributes(channel),
            headers.get(HttpHeaderNames.HOST),
            context,
            server.executor(),
            messages,
            responseMetadata -> responseHead(format, origin, responseMetadata, closeAfter),
            () -> callEnded(ctx, started.get()));
    started.set(created);
    call = created;
    server.callStarted(created);
    created.start((ServerMethodDefinition<Object, Object>) definition, metadata);
  }

  /** Any thread: the call is over. */
  private void callEnded(ChannelHandlerContext ctx, @Nullable GrpcWebCall<?, ?> ended) {
    if (ended == null) {
      return;
    }
    server.callEnded(ended);
    try {
      ctx.channel().eventLoop().execute(() -> afterCall(ctx, ended));
    } catch (RejectedExecutionException e) {
      logger.debug("gRPC-Web event loop stopped; {} closes with it", ctx.channel(), e);
    }
  }

  /** Event loop: the next pipelined request, or close. */
  private void afterCall(ChannelHandlerContext ctx, GrpcWebCall<?, ?> ended) {
    if (call != ended) {
      return;
    }
    call = null;
    if (http2) {
      return; // the stream ended with the response
    }
    if (!keepAlive || server.isShutdown()) {
      ctx.close();
      return;
    }
    while (call == null && !deferred.isEmpty()) {
      read(ctx, deferred.remove());
    }
    if (call == null) {
      ctx.channel().config().setAutoRead(true);
    }
  }

  private HttpResponse responseHead(
      Format format, @Nullable String origin, Metadata metadata, boolean closeAfter) {
    HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    HttpHeaders out = response.headers();
    out.set(HttpHeaderNames.CONTENT_TYPE, format.responseContentType());
    Set<String> names = new LinkedHashSet<>();
    for (String[] header : GrpcWebCodec.headers(metadata)) {
      out.add(header[0], header[1]);
      names.add(header[0]);
    }
    if (origin != null) {
      out.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, origin);
      out.set(HttpHeaderNames.VARY, "Origin");
      StringBuilder exposed = new StringBuilder(CorsPolicy.EXPOSED_HEADERS);
      for (String name : names) {
        exposed.append(", ").append(name);
      }
      out.set(HttpHeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS, exposed.toString());
    }
    if (!http2) {
      HttpUtil.setTransferEncodingChunked(response, true);
      if (closeAfter) {
        out.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      }
    }
    return response;
  }

  /** A call that ends before it starts: the status in a trailer frame, nothing else. */
  private void respondStatus(
      ChannelHandlerContext ctx, HttpRequest current, Format format, Status status) {
    String origin = current.headers().get(HttpHeaderNames.ORIGIN);
    HttpResponse head = responseHead(format, origin, new Metadata(), !keepAlive);
    byte[] frame =
        GrpcWebCodec.frame(
            GrpcWebCodec.TRAILER_FLAG, GrpcWebCodec.trailerBlock(status, new Metadata()));
    ctx.write(head);
    ctx.write(
        new DefaultHttpContent(Unpooled.wrappedBuffer(GrpcWebCodec.onTheWire(format, frame))));
    ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(closeIfDone());
  }

  /** A plain HTTP answer with no body. */
  private void respond(ChannelHandlerContext ctx, HttpResponseStatus status) {
    write(ctx, new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER));
  }

  private void write(ChannelHandlerContext ctx, FullHttpResponse response) {
    if (!response.headers().contains(HttpHeaderNames.CONTENT_LENGTH)) {
      HttpUtil.setContentLength(response, response.content().readableBytes());
    }
    if (!http2 && (!keepAlive || server.isShutdown())) {
      keepAlive = false;
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    ctx.writeAndFlush(response).addListener(closeIfDone());
  }

  private ChannelFutureListener closeIfDone() {
    return future -> {
      // HTTP/2: a stream whose body we stopped reading is reset; the connection stays.
      if (http2 ? discarding : !keepAlive) {
        future.channel().close();
      }
    };
  }

  private Attributes attributes(Channel channel) {
    Channel connection = http2 && channel.parent() != null ? channel.parent() : channel;
    SocketAddress remote = connection.remoteAddress();
    SocketAddress local = connection.localAddress();
    Attributes.Builder attributes =
        Attributes.newBuilder()
            .set(Grpc.TRANSPORT_ATTR_REMOTE_ADDR, remote)
            .set(Grpc.TRANSPORT_ATTR_LOCAL_ADDR, local);
    SslHandler ssl = connection.pipeline().get(SslHandler.class);
    if (ssl != null) {
      attributes.set(Grpc.TRANSPORT_ATTR_SSL_SESSION, ssl.engine().getSession());
    }
    return attributes.build();
  }

  private static int bodyLimit(Format format, int maxMessageSize) {
    long frame = (long) maxMessageSize + GrpcWebCodec.HEADER_LENGTH;
    long limit = format == Format.TEXT ? (frame + 2) / 3 * 4 + 1024 : frame;
    return (int) Math.min(Integer.MAX_VALUE - 8, limit);
  }

  private void releaseBody() {
    if (body != null) {
      body.release();
      body = null;
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    GrpcWebCall<?, ?> current = call;
    if (current != null) {
      current.writabilityChanged();
    }
    super.channelWritabilityChanged(ctx);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
    if (event == GrpcWebServer.Drain.INSTANCE || event instanceof IdleStateEvent) {
      if (call == null) {
        ctx.close();
      } else {
        keepAlive = false; // close once the call in flight is answered
      }
      return;
    }
    super.userEventTriggered(ctx, event);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    releaseBody();
    while (!deferred.isEmpty()) {
      ReferenceCountUtil.release(deferred.remove());
    }
    GrpcWebCall<?, ?> current = call;
    if (current != null) {
      current.transportClosed();
    }
    super.channelInactive(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    logger.debug("gRPC-Web connection {} failed; closing it", ctx.channel(), cause);
    ctx.close();
  }
}
