/**
 * Channels to other services: {@link dev.chassis.client.ChassisChannelBuilder} resolves the target
 * from configuration and applies the default service config (load balancing, per-method timeouts
 * and retries), keepalive and TLS.
 */
@NullMarked
package dev.chassis.client;

import org.jspecify.annotations.NullMarked;
