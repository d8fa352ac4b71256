package dev.chassis.internal.grpcweb;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Which browser origins may call: the configured allow-list ({@code "*"}: any), and always the
 * server's own origin, so a page served from the gRPC-Web port works without configuration.
 */
final class CorsPolicy {
  /** What a grpc-web page reads besides the metadata a response carries. */
  static final String EXPOSED_HEADERS = "grpc-status, grpc-message, grpc-status-details-bin";

  private final Set<String> allowed;
  private final boolean any;
  private final long maxAgeSeconds;

  CorsPolicy(List<String> allowedOrigins, Duration maxAge) {
    this.any = allowedOrigins.contains("*");
    this.allowed = Set.copyOf(allowedOrigins);
    this.maxAgeSeconds = maxAge.toSeconds();
  }

  /**
   * Whether a request with this {@code Origin} may call. No origin: not a cross-origin browser
   * request (a same-origin GET, curl, a proxy), so CORS does not apply.
   *
   * @param ownOrigin {@code scheme://host-header} of the request, the server's own origin
   */
  boolean allows(@Nullable String origin, String ownOrigin) {
    if (origin == null) {
      return true;
    }
    String normalised = origin.toLowerCase(Locale.ROOT);
    return any || allowed.contains(normalised) || normalised.equals(ownOrigin);
  }

  long maxAgeSeconds() {
    return maxAgeSeconds;
  }
}
