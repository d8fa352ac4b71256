package dev.chassis.discovery.fixed;

import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Resolves {@code static:///host:port[,host:port...]} to that fixed list; the port is required.
 * IPv6 literals go in brackets, percent-encoded because URIs do not allow brackets in a path:
 * {@code static:///%5B::1%5D:50051}. The channel's authority is the URI's authority if it has one
 * ({@code static://user-service/10.0.0.5:50051}), else the first entry.
 *
 * <p>Found by grpc-java through {@code META-INF/services}; users only write the target.
 */
public final class StaticNameResolverProvider extends NameResolverProvider {
  /** The URI scheme, {@value}. */
  public static final String SCHEME = "static";

  /** For {@link java.util.ServiceLoader}. */
  public StaticNameResolverProvider() {}

  @Override
  protected boolean isAvailable() {
    return true;
  }

  @Override
  protected int priority() {
    return 5;
  }

  @Override
  public String getDefaultScheme() {
    return SCHEME;
  }

  @Override
  public Collection<Class<? extends SocketAddress>> getProducedSocketAddressTypes() {
    return List.of(InetSocketAddress.class);
  }

  @Override
  public @Nullable NameResolver newNameResolver(URI targetUri, NameResolver.@Nullable Args args) {
    if (!SCHEME.equals(targetUri.getScheme())) {
      return null;
    }
    String path = targetUri.getPath();
    if (path == null || path.length() <= 1) {
      throw new IllegalArgumentException(
          "target: " + targetUri + " (expected: static:///host:port[,host:port...])");
    }
    List<HostAndPort> entries = parse(path.substring(1), targetUri);
    String authority = targetUri.getAuthority();
    return new StaticNameResolver(
        authority == null || authority.isEmpty() ? entries.get(0).toString() : authority,
        entries,
        args);
  }

  static List<HostAndPort> parse(String list, URI target) {
    List<HostAndPort> entries = new ArrayList<>();
    for (String raw : list.split(",", -1)) {
      entries.add(HostAndPort.parse(raw.trim(), target));
    }
    return List.copyOf(entries);
  }

  /** One entry of the list. */
  record HostAndPort(String host, int port) {
    static HostAndPort parse(String entry, URI target) {
      String expected = " in " + target + " (expected: host:port or [ipv6]:port)";
      int colon = entry.lastIndexOf(':');
      if (entry.isEmpty() || colon <= 0 || colon == entry.length() - 1) {
        throw new IllegalArgumentException("entry: '" + entry + "'" + expected);
      }
      String host = entry.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      } else if (host.contains(":")) {
        throw new IllegalArgumentException("entry: '" + entry + "'" + expected);
      }
      int port;
      try {
        port = Integer.parseInt(entry.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("entry: '" + entry + "'" + expected, e);
      }
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("port: " + port + expected);
      }
      return new HostAndPort(host, port);
    }

    /** An IP address literal, which needs no DNS lookup. */
    boolean isLiteral() {
      return host.contains(":") || host.matches("\\d{1,3}(\\.\\d{1,3}){3}");
    }

    @Override
    public String toString() {
      return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
  }
}
