package dev.chassis.testing;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A client interceptor that records which server answered each call (its remote address), for tests
 * of load balancing and discovery: which instances are in rotation, and how evenly calls spread.
 *
 * <pre>{@code
 * PeerRecorder peers = new PeerRecorder();
 * ManagedChannel channel = Chassis.channel(config, "user-service").intercept(peers).build();
 * int mark = peers.size();
 * // ... calls ...
 * assertThat(peers.portsSince(mark)).containsExactlyInAnyOrder(portA, portB);
 * }</pre>
 *
 * <p>A call is recorded when it completes on a connection, whatever its status (an error answer is
 * an answer); a call that never reached a server is not. Thread-safe.
 */
public final class PeerRecorder implements ClientInterceptor {
  private final List<SocketAddress> peers = new CopyOnWriteArrayList<>();

  /** An empty recorder. */
  public PeerRecorder() {}

  /** How many calls were recorded so far; a mark for {@link #portsSince} and {@link #since}. */
  public int size() {
    return peers.size();
  }

  /** The remote address of every recorded call, in completion order, from the {@code mark}-th. */
  public List<SocketAddress> since(int mark) {
    List<SocketAddress> snapshot = new ArrayList<>(peers);
    return List.copyOf(snapshot.subList(Math.min(mark, snapshot.size()), snapshot.size()));
  }

  /** The server ports that answered the calls recorded from the {@code mark}-th on. */
  public Set<Integer> portsSince(int mark) {
    return countsByPortSince(mark).keySet();
  }

  /** How many of the calls recorded from the {@code mark}-th on each server port answered. */
  public Map<Integer, Long> countsByPortSince(int mark) {
    Map<Integer, Long> counts = new LinkedHashMap<>();
    for (SocketAddress address : since(mark)) {
      if (address instanceof InetSocketAddress inet) {
        counts.merge(inet.getPort(), 1L, Long::sum);
      }
    }
    return counts;
  }

  /** The distinct remote addresses recorded from the {@code mark}-th call on. */
  public Set<SocketAddress> peersSince(int mark) {
    return new LinkedHashSet<>(since(mark));
  }

  @Override
  public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
      MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
    return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
      @Override
      public void start(Listener<RespT> listener, Metadata headers) {
        ClientCall<ReqT, RespT> call = this;
        super.start(
            new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
              @Override
              public void onClose(Status status, Metadata trailers) {
                // Not onHeaders: an error answer is trailers-only and has no headers.
                SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
                if (remote != null) {
                  peers.add(remote);
                }
                super.onClose(status, trailers);
              }
            },
            headers);
      }
    };
  }
}
