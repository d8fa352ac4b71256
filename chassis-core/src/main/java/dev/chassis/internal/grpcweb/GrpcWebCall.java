package dev.chassis.internal.grpcweb;

import com.google.common.util.concurrent.MoreExecutors;
import dev.chassis.internal.grpcweb.GrpcWebCodec.Format;
import io.grpc.Attributes;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerMethodDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelFuture;
import io.grpc.netty.shaded.io.netty.handler.codec.http.DefaultHttpContent;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpResponse;
import io.grpc.netty.shaded.io.netty.handler.codec.http.LastHttpContent;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One gRPC-Web call, seen by the service through the same {@link ServerCall} API grpc's own
 * transport gives it, so every interceptor of the chain applies unchanged.
 *
 * <p>As grpc-java's server does: listener callbacks run one at a time on the server's executor,
 * inside the call's {@link Context} (cancelled when the call ends, with the caller's deadline);
 * {@code onHalfClose} comes after the last requested message; {@code onComplete} after the trailers
 * are written, {@code onCancel} when the browser goes away or the deadline passes first. The
 * request body is whole before the call starts (unary and server-streaming requests are one
 * message).
 */
final class GrpcWebCall<ReqT, RespT> extends ServerCall<ReqT, RespT> {
  private static final Logger logger = LoggerFactory.getLogger(GrpcWebCall.class);

  private final Channel channel;
  private final MethodDescriptor<ReqT, RespT> method;
  private final Format format;
  private final Attributes attributes;
  private final @Nullable String authority;
  private final Context.CancellableContext context;
  private final Executor callbacks;
  private final Function<Metadata, HttpResponse> responseHead;
  private final Runnable onEnd;
  private final AtomicBoolean ended = new AtomicBoolean();

  // Touched only by callbacks (serialised): the messages not yet delivered and the demand.
  private final Queue<byte[]> pending;
  private int demand;
  private boolean halfClosed;
  private @Nullable Listener<ReqT> listener;

  // The application writes one thread at a time (the ServerCall contract), but the deadline and the
  // transport can end the call meanwhile: writes hold the lock, and closed is set once.
  private final AtomicBoolean closed = new AtomicBoolean();
  private boolean headersSent;
  private volatile boolean cancelled;

  GrpcWebCall(
      Channel channel,
      MethodDescriptor<ReqT, RespT> method,
      Format format,
      Attributes attributes,
      @Nullable String authority,
      Context.CancellableContext context,
      Executor executor,
      List<byte[]> messages,
      Function<Metadata, HttpResponse> responseHead,
      Runnable onEnd) {
    this.channel = channel;
    this.method = method;
    this.format = format;
    this.attributes = attributes;
    this.authority = authority;
    this.context = context;
    this.callbacks = MoreExecutors.newSequentialExecutor(executor);
    this.pending = new ArrayDeque<>(messages);
    this.responseHead = responseHead;
    this.onEnd = onEnd;
  }

  /**
   * Starts the call on the executor: {@code startCall} through the service's interceptors, then
   * {@code onReady} and the message. Ends the call when the deadline passes first.
   */
  void start(ServerMethodDefinition<ReqT, RespT> definition, Metadata headers) {
    context.addListener(
        cancelledContext -> {
          if (context.getDeadline() != null && context.getDeadline().isExpired()) {
            abort(
                Status.DEADLINE_EXCEEDED.withDescription(
                    "deadline exceeded after the caller's grpc-timeout"));
          }
        },
        MoreExecutors.directExecutor());
    run(
        () -> {
          if (closed.get()) {
            return; // the deadline passed before a thread took the call
          }
          listener = definition.getServerCallHandler().startCall(this, headers);
          listener.onReady();
          deliver();
        });
  }

  /** The browser went away (connection closed, stream reset): cancel, as grpc does. */
  void transportClosed() {
    abort(null);
  }

  /** Ends the call with {@code status} (written if the connection takes it) and cancels it. */
  void cancel(Status status) {
    abort(status);
  }

  /** The channel can take more data: tell a streaming handler waiting on {@link #isReady()}. */
  void writabilityChanged() {
    if (channel.isWritable() && !closed.get()) {
      run(
          () -> {
            if (listener != null) {
              listener.onReady();
            }
          });
    }
  }

  @Override
  public void request(int numMessages) {
    run(
        () -> {
          demand = (int) Math.min(Integer.MAX_VALUE, (long) demand + numMessages);
          deliver();
        });
  }

  private void deliver() {
    Listener<ReqT> current = listener;
    if (current == null || closed.get()) {
      return;
    }
    while (demand > 0 && !pending.isEmpty()) {
      demand--;
      ReqT message;
      try (InputStream in = new ByteArrayInputStream(pending.remove())) {
        message = method.parseRequest(in);
      } catch (StatusRuntimeException | IOException | IllegalArgumentException e) {
        // grpc-java answers an unparseable request so; the handler never sees it.
        Status status =
            e instanceof StatusRuntimeException sre
                ? sre.getStatus()
                : Status.INTERNAL.withDescription("invalid request message").withCause(e);
        abort(status);
        return;
      }
      current.onMessage(message);
    }
    if (pending.isEmpty() && !halfClosed) {
      halfClosed = true;
      current.onHalfClose();
    }
  }

  @Override
  public synchronized void sendHeaders(Metadata headers) {
    if (headersSent || closed.get()) {
      return;
    }
    headersSent = true;
    channel.write(responseHead.apply(headers));
  }

  @Override
  public void sendMessage(RespT message) {
    if (closed.get()) {
      return;
    }
    byte[] payload;
    try (InputStream in = method.streamResponse(message)) {
      payload = in.readAllBytes();
    } catch (IOException e) {
      throw Status.INTERNAL
          .withDescription("response message could not be serialised")
          .withCause(e)
          .asRuntimeException();
    }
    DefaultHttpContent frame = content(GrpcWebCodec.frame(GrpcWebCodec.MESSAGE_FLAG, payload));
    synchronized (this) {
      if (closed.get()) {
        return;
      }
      if (!headersSent) {
        headersSent = true;
        channel.write(responseHead.apply(new Metadata()));
      }
      channel.writeAndFlush(frame);
    }
  }

  @Override
  public void close(Status status, Metadata trailers) {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    writeTrailers(status, trailers)
        .addListener(
            written -> {
              if (!written.isSuccess()) {
                cancelled = true; // the browser went away before the trailers reached it
              }
              run(
                  () -> {
                    try {
                      if (listener != null) {
                        if (written.isSuccess()) {
                          listener.onComplete();
                        } else {
                          listener.onCancel();
                        }
                      }
                    } finally {
                      end();
                    }
                  });
            });
  }

  /**
   * Ends the call from our side: the deadline passed, the request did not parse, or the browser
   * went away ({@code status} null: nothing can be written). The handler hears {@code onCancel}.
   */
  private void abort(@Nullable Status status) {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    cancelled = true;
    if (status != null) {
      writeTrailers(status, new Metadata());
    }
    context.cancel(
        status == null
            ? Status.CANCELLED.withDescription("the client went away").asRuntimeException()
            : status.asRuntimeException());
    run(
        () -> {
          try {
            if (listener != null) {
              listener.onCancel();
            }
          } finally {
            end();
          }
        });
  }

  private synchronized ChannelFuture writeTrailers(Status status, Metadata trailers) {
    if (!headersSent) {
      headersSent = true;
      channel.write(responseHead.apply(new Metadata()));
    }
    byte[] block = GrpcWebCodec.trailerBlock(status, trailers);
    channel.write(content(GrpcWebCodec.frame(GrpcWebCodec.TRAILER_FLAG, block)));
    return channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
  }

  private DefaultHttpContent content(byte[] frame) {
    return new DefaultHttpContent(Unpooled.wrappedBuffer(GrpcWebCodec.onTheWire(format, frame)));
  }

  private void end() {
    if (ended.compareAndSet(false, true)) {
      context.cancel(null);
      onEnd.run();
    }
  }

  /** Runs {@code task} after the callbacks before it, inside the call's context. */
  private void run(Runnable task) {
    try {
      callbacks.execute(
          () -> {
            Context previous = context.attach();
            try {
              task.run();
            } catch (RuntimeException | Error e) {
              // As grpc-java: an exception escaping the service's callbacks ends the call.
              logger.error("gRPC-Web call {} failed in a callback", method.getFullMethodName(), e);
              abort(Status.UNKNOWN.withDescription("Application error processing RPC"));
            } finally {
              context.detach(previous);
            }
          });
    } catch (RejectedExecutionException e) {
      logger.warn("gRPC-Web call {}: executor refused a callback", method.getFullMethodName(), e);
      if (closed.compareAndSet(false, true)) {
        writeTrailers(
            Status.UNAVAILABLE.withDescription("server is shutting down"), new Metadata());
      }
      context.cancel(e);
      end();
    }
  }

  @Override
  public boolean isReady() {
    return !closed.get() && channel.isWritable();
  }

  @Override
  public boolean isCancelled() {
    return cancelled;
  }

  @Override
  public void setMessageCompression(boolean enabled) {
    // Browsers' grpc-web clients do not decompress messages; they go out uncompressed.
  }

  @Override
  public void setCompression(String compressor) {
    // As above: identity only.
  }

  @Override
  public Attributes getAttributes() {
    return attributes;
  }

  @Override
  public @Nullable String getAuthority() {
    return authority;
  }

  @Override
  public MethodDescriptor<ReqT, RespT> getMethodDescriptor() {
    return method;
  }
}
