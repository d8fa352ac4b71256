/**
 * TLS test support: {@link dev.chassis.testing.tls.TestPki} makes a CA, server and client
 * certificates at test time and writes the PEM files Chassis reads.
 */
@NullMarked
package dev.chassis.testing.tls;

import org.jspecify.annotations.NullMarked;
