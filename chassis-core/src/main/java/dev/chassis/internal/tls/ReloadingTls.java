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

  private final ScheduledExecutorService reloader;
  private final List<AutoCloseable> watches = new ArrayList<>();

  private ReloadingTls(String owner) {
    this.reloader =
        Executors.newSingleThreadScheduledExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "chassis-tls-reload-" + owner);
              thread.setDaemon(true);
              return thread;
            });
  }

  /** Server credentials; mTLS (client certificates required and verified) when {@code clientCa}. */
  public static Server server(
      Path cert, Path key, @Nullable Path clientCa, Duration interval, String owner) {
    ReloadingTls reloading = new ReloadingTls(owner);
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
      @Nullable Path ca, @Nullable Path cert, @Nullable Path key, Duration interval, String owner) {
    ReloadingTls reloading = new ReloadingTls(owner);
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
    try {
      manager.updateIdentityCredentials(cert.toFile(), key.toFile());
      watch(
          List.of(cert, key),
          interval,
          () -> manager.updateIdentityCredentials(cert.toFile(), key.toFile()),
          "TLS certificate " + cert);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the TLS certificate " + cert + " or its key", e);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "invalid TLS certificate "
              + cert
              + " or key (expected PEM, PKCS#8 key): "
              + e.getMessage(),
          e);
    }
    logger.info("TLS certificate {} loaded; re-read every {}", cert, interval);
    return manager;
  }

  private AdvancedTlsX509TrustManager trustManager(
      Path bundle, Duration interval, AdvancedTlsX509TrustManager.Verification verification) {
    try {
      AdvancedTlsX509TrustManager manager =
          AdvancedTlsX509TrustManager.newBuilder().setVerification(verification).build();
      manager.updateTrustCredentials(bundle.toFile());
      watch(
          List.of(bundle),
          interval,
          () -> manager.updateTrustCredentials(bundle.toFile()),
          "TLS trust bundle " + bundle);
      return manager;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the TLS trust bundle " + bundle, e);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "invalid TLS trust bundle " + bundle + " (expected PEM certificates): " + e.getMessage(),
          e);
    }
  }

  /** Loads new material. */
  private interface Update {
    void run() throws IOException, GeneralSecurityException;
  }

  /**
   * Every {@code interval}, compares the files' contents with what was loaded last, and loads them
   * again when they changed: a half-written pair (new certificate, old key) fails to load, is
   * logged, and is retried on the next round, the old material staying in use meanwhile.
   */
  private void watch(List<Path> files, Duration interval, Update update, String what) {
    AtomicReference<String> loaded = new AtomicReference<>(fingerprint(files));
    long millis = interval.toMillis();
    ScheduledFuture<?> task =
        reloader.scheduleWithFixedDelay(
            () -> {
              String now = fingerprint(files);
              if (now.equals(loaded.get())) {
                return;
              }
              try {
                update.run();
                loaded.set(now);
                logger.info("{} reloaded", what);
              } catch (IOException | GeneralSecurityException | RuntimeException e) {
                logger.warn(
                    "{} changed but cannot be loaded yet; keeping the old one: {}",
                    what,
                    e.toString());
              }
            },
            millis,
            millis,
            TimeUnit.MILLISECONDS);
    watches.add(() -> task.cancel(false));
  }

  /** A digest of the files' contents; a marker for a file that cannot be read right now. */
  private static String fingerprint(List<Path> files) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      for (Path file : files) {
        try {
          digest.update(Files.readAllBytes(file));
        } catch (IOException e) {
          digest.update((byte) 0);
        }
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
    reloader.shutdownNow();
  }
}
