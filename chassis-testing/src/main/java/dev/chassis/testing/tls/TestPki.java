package dev.chassis.testing.tls;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.jspecify.annotations.Nullable;

/**
 * A throwaway certificate authority for tests: certificates are made at test time (nothing checked
 * in that could expire), with EC P-256 keys, and written as the PEM files Chassis reads (chain,
 * PKCS#8 key, trust bundle).
 *
 * <pre>{@code
 * TestPki ca = TestPki.newCa("test-ca");
 * TestPki.Issued server = ca.server("localhost");          // SANs localhost, 127.0.0.1
 * TestPki.Issued client = ca.client("spiffe://example.org/ns/default/sa/orders");
 * Path dir = ...;
 * server.write(dir, "server");                             // server.crt, server.key
 * ca.writeCertificate(dir.resolve("ca.crt"));
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class TestPki {
  private static final AtomicLong serials = new AtomicLong(System.currentTimeMillis());

  private final X500Name name;
  private final KeyPair keys;
  private final X509Certificate certificate;

  private TestPki(X500Name name, KeyPair keys, X509Certificate certificate) {
    this.name = name;
    this.keys = keys;
    this.certificate = certificate;
  }

  /** A new self-signed CA, valid from an hour ago for a year. */
  public static TestPki newCa(String commonName) {
    KeyPair keys = newKeys();
    X500Name name = new X500Name("CN=" + commonName);
    Instant now = Instant.now();
    X509Certificate certificate =
        sign(
            name,
            keys,
            name,
            keys.getPublic(),
            now.minus(Duration.ofHours(1)),
            now.plus(Duration.ofDays(365)),
            true,
            List.of(),
            null);
    return new TestPki(name, keys, certificate);
  }

  /** The CA certificate. */
  public X509Certificate certificate() {
    return certificate;
  }

  /** Writes the CA certificate as PEM (a trust bundle). */
  public void writeCertificate(Path file) {
    writeAtomically(file, pem("CERTIFICATE", encoded(certificate)));
  }

  /**
   * A server certificate for {@code hostNames} (DNS names or IP literals), always with {@code
   * localhost} and {@code 127.0.0.1} added, valid from an hour ago for a day.
   */
  public Issued server(String... hostNames) {
    List<GeneralName> names = new ArrayList<>();
    List<String> hosts = new ArrayList<>(List.of(hostNames));
    hosts.add("localhost");
    hosts.add("127.0.0.1");
    for (String host : hosts) {
      names.add(generalName(host));
    }
    String commonName = hostNames.length > 0 ? hostNames[0] : "localhost";
    return issue(commonName, names, KeyPurposeId.id_kp_serverAuth, validNow());
  }

  /**
   * A client certificate whose identity is {@code identity}: a URI SAN when it has a scheme (such
   * as {@code spiffe://example.org/ns/a/sa/b}), else a DNS SAN; the subject CN is the same text.
   */
  public Issued client(String identity) {
    return client(identity, validNow());
  }

  /** A client certificate like {@link #client(String)} that expired an hour ago. */
  public Issued expiredClient(String identity) {
    Instant now = Instant.now();
    return client(
        identity, new Instant[] {now.minus(Duration.ofDays(2)), now.minus(Duration.ofHours(1))});
  }

  /** A client certificate with only a subject CN, no SAN. */
  public Issued clientWithCommonNameOnly(String commonName) {
    return issue(commonName, List.of(), KeyPurposeId.id_kp_clientAuth, validNow());
  }

  private Issued client(String identity, Instant[] validity) {
    GeneralName san =
        identity.contains("://")
            ? new GeneralName(GeneralName.uniformResourceIdentifier, identity)
            : new GeneralName(GeneralName.dNSName, identity);
    String commonName = identity.length() <= 64 ? identity : identity.substring(0, 64);
    return issue(commonName, List.of(san), KeyPurposeId.id_kp_clientAuth, validity);
  }

  private Issued issue(
      String commonName, List<GeneralName> names, KeyPurposeId purpose, Instant[] validity) {
    KeyPair subjectKeys = newKeys();
    X509Certificate issued =
        sign(
            name,
            keys,
            new X500Name("CN=" + commonName),
            subjectKeys.getPublic(),
            validity[0],
            validity[1],
            false,
            names,
            purpose);
    return new Issued(issued, subjectKeys.getPrivate(), certificate);
  }

  private static Instant[] validNow() {
    Instant now = Instant.now();
    return new Instant[] {now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(1))};
  }

  /**
   * A certificate and its key.
   *
   * @param certificate the certificate
   * @param key its private key
   * @param issuer the CA certificate that signed it
   */
  public record Issued(X509Certificate certificate, PrivateKey key, X509Certificate issuer) {
    /**
     * Writes {@code <name>.crt} (the chain: this certificate, then the CA) and {@code <name>.key}.
     */
    public Files write(Path directory, String name) {
      Path chain = directory.resolve(name + ".crt");
      Path key = directory.resolve(name + ".key");
      writeKey(key);
      writeChain(chain);
      return new Files(chain, key);
    }

    /** Writes the chain as PEM. */
    public void writeChain(Path file) {
      writeAtomically(
          file, pem("CERTIFICATE", encoded(certificate)) + pem("CERTIFICATE", encoded(issuer)));
    }

    /** Writes the private key as a PKCS#8 PEM. */
    public void writeKey(Path file) {
      writeAtomically(file, pem("PRIVATE KEY", key.getEncoded()));
    }
  }

  /**
   * Where {@link Issued#write} put the files.
   *
   * @param chain the certificate chain (PEM)
   * @param key the PKCS#8 private key (PEM)
   */
  public record Files(Path chain, Path key) {}

  private static KeyPair newKeys() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot make an EC key pair", e);
    }
  }

  private static X509Certificate sign(
      X500Name issuer,
      KeyPair issuerKeys,
      X500Name subject,
      java.security.PublicKey subjectKey,
      Instant notBefore,
      Instant notAfter,
      boolean ca,
      List<GeneralName> names,
      @Nullable KeyPurposeId purpose) {
    try {
      X509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
              issuer,
              BigInteger.valueOf(serials.incrementAndGet()),
              Date.from(notBefore),
              Date.from(notAfter),
              subject,
              subjectKey);
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
      builder.addExtension(
          Extension.keyUsage,
          true,
          new KeyUsage(ca ? KeyUsage.keyCertSign | KeyUsage.cRLSign : KeyUsage.digitalSignature));
      if (purpose != null) {
        builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
      }
      if (!names.isEmpty()) {
        builder.addExtension(
            Extension.subjectAlternativeName,
            false,
            new GeneralNames(names.toArray(GeneralName[]::new)));
      }
      return new JcaX509CertificateConverter()
          .getCertificate(
              builder.build(
                  new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKeys.getPrivate())));
    } catch (CertIOException | OperatorCreationException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign a test certificate", e);
    }
  }

  private static GeneralName generalName(String host) {
    try {
      if (Character.isDigit(host.charAt(0)) || host.contains(":")) {
        InetAddress.getByName(host); // an IP literal
        return new GeneralName(GeneralName.iPAddress, host);
      }
    } catch (IOException e) {
      // not an IP literal after all: a DNS name
    }
    return new GeneralName(GeneralName.dNSName, host);
  }

  private static byte[] encoded(X509Certificate certificate) {
    try {
      return certificate.getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  /** Writes through a temporary file and a move, the way cert-manager and Vault agents rotate. */
  private static void writeAtomically(Path file, String content) {
    try {
      Path directory = file.toAbsolutePath().getParent();
      java.nio.file.Files.createDirectories(directory);
      Path temporary = java.nio.file.Files.createTempFile(directory, ".tmp-", ".pem");
      java.nio.file.Files.writeString(temporary, content, StandardCharsets.US_ASCII);
      java.nio.file.Files.move(
          temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }
}
