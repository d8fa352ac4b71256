package dev.chassis.security;

import java.util.List;

/**
 * Who the peer of a call is, from its verified TLS client certificate.
 *
 * @param id the identity: the SPIFFE ID (a {@code spiffe://} URI SAN) if the certificate has one,
 *     else its first DNS SAN, else its subject CN
 * @param names every name the certificate carries (URI SANs, DNS SANs, the subject DN and CN),
 *     which authorization policies match {@code source.principals} against
 */
public record PeerIdentity(String id, List<String> names) {
  /** Copies the names. */
  public PeerIdentity {
    names = List.copyOf(names);
  }
}
