package dev.chassis.security;

import io.grpc.Context;
import io.grpc.Grpc;
import io.grpc.ServerCall;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;

/**
 * The verified identity of a call's peer (mTLS), for handlers, logs, rate limits and authorization.
 *
 * <pre>{@code
 * Optional<PeerIdentity> caller = PeerIdentities.current();   // inside a handler
 * String who = caller.map(PeerIdentity::id).orElse("anonymous");
 * }</pre>
 *
 * <p>Empty without TLS, or with TLS when the client presented no certificate.
 */
public final class PeerIdentities {
  /** The caller's identity in the call's {@link Context}, set by Chassis's server chain. */
  public static final Context.Key<PeerIdentity> CONTEXT_KEY = Context.key("chassis.peer-identity");

  private static final String SESSION_VALUE = "chassis.peer-identity";
  private static final PeerIdentity NONE = new PeerIdentity("", List.of());

  private PeerIdentities() {}

  /**
   * The interceptor that puts the identity in the call's {@link Context}; Chassis's server chain
   * includes it.
   */
  public static io.grpc.ServerInterceptor interceptor() {
    return new PeerIdentityInterceptor();
  }

  /** The identity of the current call's peer, inside a handler. */
  public static Optional<PeerIdentity> current() {
    return Optional.ofNullable(CONTEXT_KEY.get());
  }

  /** The identity of {@code call}'s peer; computed once per TLS session. */
  public static Optional<PeerIdentity> of(ServerCall<?, ?> call) {
    SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (session == null) {
      return Optional.empty();
    }
    Object cached = session.getValue(SESSION_VALUE);
    PeerIdentity identity;
    if (cached instanceof PeerIdentity known) {
      identity = known;
    } else {
      identity = fromSession(session);
      session.putValue(SESSION_VALUE, identity);
    }
    return identity == NONE ? Optional.empty() : Optional.of(identity);
  }

  private static PeerIdentity fromSession(SSLSession session) {
    Certificate[] chain;
    try {
      chain = session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      return NONE; // TLS without a client certificate
    }
    if (chain.length == 0 || !(chain[0] instanceof X509Certificate certificate)) {
      return NONE;
    }
    PeerIdentity identity = fromCertificate(certificate);
    return identity == null ? NONE : identity;
  }

  /** The identity a certificate carries, or null when it has no usable name. */
  static @Nullable PeerIdentity fromCertificate(X509Certificate certificate) {
    List<String> uris = new ArrayList<>();
    List<String> dnsNames = new ArrayList<>();
    try {
      Collection<List<?>> sans = certificate.getSubjectAlternativeNames();
      if (sans != null) {
        for (List<?> san : sans) {
          int type = (Integer) san.get(0);
          if (type == 6) {
            uris.add((String) san.get(1));
          } else if (type == 2) {
            dnsNames.add((String) san.get(1));
          }
        }
      }
    } catch (CertificateParsingException e) {
      // No readable SANs: fall back to the subject.
    }
    String subject = certificate.getSubjectX500Principal().getName();
    String commonName = commonName(subject);
    // What A43 matches principals against: URI SANs, DNS SANs, the subject DN.
    List<String> names = new ArrayList<>(uris);
    names.addAll(dnsNames);
    names.add(subject);
    String spiffe =
        uris.stream()
            .filter(uri -> uri.toLowerCase(Locale.ROOT).startsWith("spiffe://"))
            .findFirst()
            .orElse(null);
    String id =
        spiffe != null
            ? spiffe
            : !dnsNames.isEmpty() ? dnsNames.get(0) : commonName != null ? commonName : null;
    return id == null ? null : new PeerIdentity(id, names);
  }

  private static @Nullable String commonName(String subject) {
    try {
      for (Rdn rdn : new LdapName(subject).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          return String.valueOf(rdn.getValue());
        }
      }
    } catch (InvalidNameException e) {
      return null;
    }
    return null;
  }
}
