/**
 * Security: the peer's verified identity ({@link dev.chassis.security.PeerIdentities}) and
 * authorization by gRFC A43 policies ({@link dev.chassis.security.AuthorizationPolicy}, {@link
 * dev.chassis.security.AuthorizationInterceptor}). TLS and mTLS with certificate reload are
 * configured through {@code chassis.tls} and {@code chassis.client.tls}; see {@code
 * docs/security.md}.
 */
@NullMarked
package dev.chassis.security;

import org.jspecify.annotations.NullMarked;
