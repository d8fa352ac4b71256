package dev.chassis.internal.tls;

import io.grpc.ChannelCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS credentials whose certificate, key and trust bundle are re-read from their PEM files every
 * interval (grpc-java's {@code AdvancedTlsX509KeyManager} and {@code AdvancedTlsX509TrustManager}):
 * new handshakes use the new material, open connections keep theirs. The key and certificate are
 * replaced together once both files changed, as cert-manager and Vault agents write them. {@link
 * #close()} stops the re-reading.
 */
public final class ReloadingTls implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(ReloadingTls.class);

  /** One daemon thread re-reads the files of every server and channel in the process. */
  private static final ScheduledExecutorService SCHEDULER =
      Executors.newSingleThreadScheduledExecutor(
          runnable -> {
            Thread thread = new Thread(runnable, "chassis-tls-reload");
            thread.setDaemon(true);
            return thread;
          });

  private final List<AutoCloseable> watches = new ArrayList<>();

  private ReloadingTls() {}

  /** Server credentials; mTLS (client certificates required and verified) when {@code clientCa}. */
  public static Server server(Path cert, Path key, @Nullable Path clientCa, Duration interval) {
    ReloadingTls reloading = new ReloadingTls();
    try {
      TlsServerCredentials.Builder credentials =
          TlsServerCredentials.newBuilder().keyManager(reloading.keyManager(cert, key, interval));
      if (clientCa != null) {
        credentials
            .trustManager(
                reloading.trustManager(
                    clientCa,
                    interval,
                    AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION))
            .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
      }
      return new Server(credentials.build(), reloading);
    } catch (RuntimeException e) {
      reloading.close();
      throw e;
    }
  }

  /**
   * Channel credentials: the server verified against {@code ca} (null: the JVM's trust store), and
   * a client certificate for mTLS when {@code cert} and {@code key} are set.
   */
  public static Client client(
      @Nullable Path ca, @Nullable Path cert, @Nullable Path key, Duration interval) {
    ReloadingTls reloading = new ReloadingTls();
    try {
      TlsChannelCredentials.Builder credentials = TlsChannelCredentials.newBuilder();
      if (ca != null) {
        credentials.trustManager(
            reloading.trustManager(
                ca,
                interval,
                AdvancedTlsX509TrustManager.Verification.CERTIFICATE_AND_HOST_NAME_VERIFICATION));
      }
      if (cert != null && key != null) {
        credentials.keyManager(reloading.keyManager(cert, key, interval));
      }
      return new Client(credentials.build(), reloading);
    } catch (RuntimeException e) {
      reloading.close();
      throw e;
    }
  }

  /** Server credentials and what keeps them fresh. */
  public record Server(ServerCredentials credentials, ReloadingTls reloading) {}

  /** Channel credentials and what keeps them fresh. */
  public record Client(ChannelCredentials credentials, ReloadingTls reloading) {}

  private AdvancedTlsX509KeyManager keyManager(Path cert, Path key, Duration interval) {
    warnIfReadableByOthers(key);
    AdvancedTlsX509KeyManager manager = new AdvancedTlsX509KeyManager();
    List<Path> files = List.of(cert, key);
    Load load =
        contents -> {
          X509Certificate[] chain = Pem.certificates(contents.get(0));
          PrivateKey privateKey = Pem.privateKey(contents.get(1));
          Pem.requireMatch(chain, privateKey);
          manager.updateIdentityCredentials(chain, privateKey);
        };
    String what = "TLS certificate " + cert;
    watch(files, interval, load, what, "expected a PEM certificate chain and its PKCS#8 PEM key");
    logger.info("{} loaded; re-read every {}", what, interval);
    return manager;
  }

  private AdvancedTlsX509TrustManager trustManager(
      Path bundle, Duration interval, AdvancedTlsX509TrustManager.Verification verification) {
    AdvancedTlsX509TrustManager manager;
    try {
      manager = AdvancedTlsX509TrustManager.newBuilder().setVerification(verification).build();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot create a TLS trust manager", e);
    }
    Load load = contents -> manager.updateTrustCredentials(Pem.certificates(contents.get(0)));
    watch(
        List.of(bundle),
        interval,
        load,
        "TLS trust bundle " + bundle,
        "expected PEM CA certificates");
    return manager;
  }

  /** Loads new material from the files' contents. */
  private interface Load {
    void accept(List<byte[]> contents) throws IOException, GeneralSecurityException;
  }

  /**
   * Loads {@code files} now (failing the start when they are missing or invalid), then every {@code
   * interval} reads them once, and loads them again when their contents changed and stayed the same
   * for two rounds in a row (so a pair caught mid-write is not loaded). Material that does not load
   * (a certificate without its key, an empty bundle) is logged, and the old one stays in use.
   */
  private void watch(List<Path> files, Duration interval, Load load, String what, String expected) {
    List<byte[]> initial;
    try {
      initial = read(files);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the " + what + ": " + e.getMessage(), e);
    }
    try {
      load.accept(initial);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "invalid " + what + " (" + expected + "): " + e.getMessage(), e);
    }
    AtomicReference<String> loaded = new AtomicReference<>(fingerprint(initial));
    AtomicReference<String> seen = new AtomicReference<>(loaded.get());
    long nanos = Math.max(1, interval.toNanos());
    ScheduledFuture<?> task =
        SCHEDULER.scheduleWithFixedDelay(
            () -> {
              List<byte[]> contents;
              try {
                contents = read(files);
              } catch (IOException e) {
                logger.warn("{} cannot be read; keeping the loaded one: {}", what, e.toString());
                return;
              }
              String now = fingerprint(contents);
              String previous = seen.getAndSet(now);
              if (now.equals(loaded.get()) || !now.equals(previous)) {
                return; // unchanged, or changed since the last round: wait until it settles
              }
              try {
                load.accept(contents);
                loaded.set(now);
                logger.info("{} reloaded", what);
              } catch (IOException | GeneralSecurityException | RuntimeException e) {
                logger.warn(
                    "{} changed but does not load ({}); keeping the old one: {}",
                    what,
                    expected,
                    e.getMessage());
              }
            },
            nanos,
            nanos,
            TimeUnit.NANOSECONDS);
    watches.add(() -> task.cancel(false));
  }

  private static List<byte[]> read(List<Path> files) throws IOException {
    List<byte[]> contents = new ArrayList<>();
    for (Path file : files) {
      contents.add(Files.readAllBytes(file));
    }
    return contents;
  }

  private static String fingerprint(List<byte[]> contents) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      for (byte[] content : contents) {
        digest.update(content);
        digest.update((byte) 0);
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A private key others can read is a leak waiting to happen; say so at start-up. */
  static void warnIfReadableByOthers(Path key) {
    try {
      Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(key);
      if (permissions.contains(PosixFilePermission.OTHERS_READ)
          || permissions.contains(PosixFilePermission.GROUP_READ)) {
        logger.warn(
            "TLS private key {} is readable by its group or by others ({}); restrict it to the"
                + " service's user (chmod 600)",
            key,
            java.nio.file.attribute.PosixFilePermissions.toString(permissions));
      }
    } catch (UnsupportedOperationException | IOException e) {
      logger.debug("cannot check the permissions of {}: {}", key, e.toString());
    }
  }

  /** Stops re-reading the files. */
  @Override
  public void close() {
    for (AutoCloseable watch : watches) {
      try {
        watch.close();
      } catch (Exception e) {
        logger.warn("stopping a TLS file watch failed", e);
      }
    }
    watches.clear();
  }
}
