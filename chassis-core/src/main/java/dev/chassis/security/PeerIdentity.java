package dev.chassis.security;

import java.util.List;

/**
 * Who the peer of a call is, from its verified TLS client certificate.
 *
 * @param id the identity: the SPIFFE ID (a {@code spiffe://} URI SAN) if the certificate has one,
 *     else its first DNS SAN, else its subject CN
 * @param names what authorization policies match {@code source.principals} against, as gRFC A43
 *     does: the URI SANs, the DNS SANs, and the subject DN (such as {@code CN=orders,O=shop})
 */
public record PeerIdentity(String id, List<String> names) {
  /** Copies the names. */
  public PeerIdentity {
    names = List.copyOf(names);
  }
}
