/** Reloading TLS credentials shared by the server and channel builders. Not API. */
@NullMarked
package dev.chassis.internal.tls;

import org.jspecify.annotations.NullMarked;
