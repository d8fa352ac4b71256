package dev.chassis.discovery.consul;

import dev.chassis.ChassisConfig;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Resolves {@code consul:///service-name} to the service's passing instances in Consul, watched
 * with blocking queries so changes arrive within a second. Optional query parameters: {@code tag}
 * (repeatable; instances must carry every tag) and {@code dc} (another datacenter). An authority
 * names the agent: {@code consul://10.0.0.2:8500/user-service}.
 *
 * <p>Without an authority the agent and the other settings come from the channel's {@link
 * #SETTINGS} argument, which {@code Chassis.channel(config, name)} sets from {@code
 * chassis.discovery.consul}; a plain grpc channel falls back to the process configuration ({@code
 * CONSUL_HTTP_ADDR}, {@code CONSUL_HTTP_TOKEN}) and then to {@code http://127.0.0.1:8500}, like
 * Consul's own tools.
 *
 * <p>Found by grpc-java through {@code META-INF/services}; users only write the target.
 */
public final class ConsulNameResolverProvider extends NameResolverProvider {
  /** The URI scheme, {@value}. */
  public static final String SCHEME = "consul";

  /**
   * The Consul settings for resolvers of a channel: {@code
   * builder.setNameResolverArg(ConsulNameResolverProvider.SETTINGS, config.consul())}.
   */
  public static final NameResolver.Args.Key<ConsulSettings> SETTINGS =
      NameResolver.Args.Key.create("chassis.consul.settings");

  private static final URI CONSUL_DEFAULT = URI.create("http://127.0.0.1:8500");
  private static volatile @Nullable ConsulSettings processSettings;

  /** For {@link java.util.ServiceLoader}. */
  public ConsulNameResolverProvider() {}

  @Override
  protected boolean isAvailable() {
    return true;
  }

  /** Below dns (5), so this provider never becomes grpc's default scheme. */
  @Override
  protected int priority() {
    return 4;
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
  public @Nullable NameResolver newNameResolver(URI targetUri, NameResolver.Args args) {
    if (!SCHEME.equals(targetUri.getScheme())) {
      return null;
    }
    String path = targetUri.getPath();
    if (path == null || path.length() <= 1 || path.indexOf('/', 1) >= 0) {
      throw new IllegalArgumentException(
          "target: " + targetUri + " (expected: consul:///service-name[?tag=t&dc=dc1])");
    }
    String serviceName = path.substring(1);
    List<String> tags = new ArrayList<>();
    String datacenter = null;
    String query = targetUri.getRawQuery();
    if (query != null && !query.isEmpty()) {
      for (String pair : query.split("&")) {
        int equals = pair.indexOf('=');
        String key = decode(equals < 0 ? pair : pair.substring(0, equals));
        String value = equals < 0 ? "" : decode(pair.substring(equals + 1));
        if (value.isEmpty()) {
          throw new IllegalArgumentException(
              "target: " + targetUri + " (expected: a value for " + key + ")");
        }
        switch (key) {
          case "tag" -> tags.add(value);
          case "dc" -> datacenter = value;
          default ->
              throw new IllegalArgumentException(
                  "target: " + targetUri + " (unknown parameter " + key + "; expected: tag, dc)");
        }
      }
    }
    ConsulSettings settings = args.getArg(SETTINGS);
    if (settings == null) {
      settings = processSettings();
    }
    URI agent;
    if (targetUri.getAuthority() != null && !targetUri.getAuthority().isEmpty()) {
      agent = URI.create("http://" + targetUri.getAuthority());
    } else {
      agent = settings.address() != null ? settings.address() : CONSUL_DEFAULT;
    }
    return new ConsulNameResolver(
        serviceName, tags, datacenter, agent, settings.token(), settings, args);
  }

  /** The process configuration's, loaded once: grpc calls us inside its synchronization context. */
  private static ConsulSettings processSettings() {
    ConsulSettings settings = processSettings;
    if (settings == null) {
      synchronized (ConsulNameResolverProvider.class) {
        settings = processSettings;
        if (settings == null) {
          settings = ChassisConfig.load().consul();
          processSettings = settings;
        }
      }
    }
    return settings;
  }

  private static String decode(String text) {
    return URLDecoder.decode(text, StandardCharsets.UTF_8);
  }
}
