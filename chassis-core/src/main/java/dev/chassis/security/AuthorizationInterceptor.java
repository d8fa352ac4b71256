package dev.chassis.security;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Enforces an {@link AuthorizationPolicy} read from a file, and re-reads the file every interval: a
 * changed, valid policy replaces the old one for new calls; an invalid one is logged and the old
 * one stays. Denied calls end with {@code PERMISSION_DENIED}, or {@code UNAUTHENTICATED} when the
 * peer has no verified identity.
 *
 * <p>Chassis installs it when {@code chassis.authorization.policy-file} is set; it then guards
 * every application service (and health and reflection with {@code protect-health-and-reflection}).
 * Thread-safe.
 */
public final class AuthorizationInterceptor implements ServerInterceptor, AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(AuthorizationInterceptor.class);

  private final Path file;
  private final AtomicReference<Loaded> current;
  private final ScheduledExecutorService watcher;

  private record Loaded(String text, AuthorizationPolicy policy) {}

  private AuthorizationInterceptor(Path file, Loaded initial, Duration reloadInterval) {
    this.file = file;
    this.current = new AtomicReference<>(initial);
    this.watcher =
        Executors.newSingleThreadScheduledExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "chassis-authz-reload");
              thread.setDaemon(true);
              return thread;
            });
    long millis = reloadInterval.toMillis();
    watcher.scheduleWithFixedDelay(this::reload, millis, millis, TimeUnit.MILLISECONDS);
  }

  /**
   * Reads and parses the policy in {@code file}, and re-reads it every {@code reloadInterval}.
   *
   * @throws IllegalArgumentException when the policy is invalid
   * @throws UncheckedIOException when the file cannot be read
   */
  public static AuthorizationInterceptor fromFile(Path file, Duration reloadInterval) {
    String text = read(file);
    AuthorizationPolicy policy = parse(file, text);
    logger.info("authorization policy {} loaded from {}", policy.name(), file);
    return new AuthorizationInterceptor(file, new Loaded(text, policy), reloadInterval);
  }

  /** The policy in force. */
  public AuthorizationPolicy policy() {
    return current.get().policy();
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    String path = "/" + call.getMethodDescriptor().getFullMethodName();
    PeerIdentity peer = PeerIdentities.of(call).orElse(null);
    AuthorizationPolicy policy = current.get().policy();
    AuthorizationPolicy.Verdict verdict = policy.decide(path, peer, name -> values(headers, name));
    if (verdict.decision() == AuthorizationPolicy.Decision.ALLOW) {
      return next.startCall(call, headers);
    }
    logger.debug(
        "denied {} to {} (policy {}, rule {})",
        path,
        peer == null ? "an unauthenticated peer" : escape(peer.id()),
        policy.name(),
        verdict.rule() == null ? "none matched" : verdict.rule());
    // Without an identity the call was turned away for lack of one, unless a deny rule decided.
    Status status =
        peer == null && !verdict.deniedByRule()
            ? Status.UNAUTHENTICATED.withDescription("a verified client certificate is required")
            : Status.PERMISSION_DENIED.withDescription(
                (peer == null ? "the caller" : peer.id())
                    + " may not call "
                    + call.getMethodDescriptor().getFullMethodName());
    call.close(status, new Metadata());
    return new ServerCall.Listener<>() {};
  }

  /** Certificate names are caller-controlled text: no line breaks into a plain-text log. */
  private static String escape(String text) {
    return text.replace("\r", "\\r").replace("\n", "\\n");
  }

  private static List<String> values(Metadata headers, String name) {
    if (name.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
      return List.of();
    }
    Iterable<String> all = headers.getAll(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER));
    if (all == null) {
      return List.of();
    }
    List<String> values = new java.util.ArrayList<>();
    all.forEach(values::add);
    return values;
  }

  private void reload() {
    try {
      String text = read(file);
      if (text.equals(current.get().text())) {
        return;
      }
      AuthorizationPolicy policy = parse(file, text);
      current.set(new Loaded(text, policy));
      logger.info("authorization policy {} reloaded from {}", policy.name(), file);
    } catch (RuntimeException e) {
      logger.error(
          "authorization policy {} not reloaded, keeping policy {}: {}",
          file,
          current.get().policy().name(),
          e.getMessage());
    }
  }

  private static AuthorizationPolicy parse(Path file, String text) {
    try {
      return AuthorizationPolicy.parse(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the authorization policy " + file, e);
    }
  }

  /** Stops re-reading the file. */
  @Override
  public void close() {
    watcher.shutdownNow();
  }
}
