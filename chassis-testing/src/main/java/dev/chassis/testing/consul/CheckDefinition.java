package dev.chassis.testing.consul;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One check of a service registration, as Consul's {@code structs.CheckType} holds it after
 * decoding (snake_case aliases merged, durations in nanoseconds). {@code scriptArgs} and {@code
 * header} are {@code null} when absent, as Go's nil, because "empty" depends on it.
 */
record CheckDefinition(
    String checkId,
    String name,
    String status,
    String notes,
    @Nullable List<String> scriptArgs,
    String http,
    @Nullable Map<String, List<String>> header,
    String method,
    String body,
    boolean disableRedirects,
    String tcp,
    String udp,
    long intervalNanos,
    String aliasNode,
    String aliasService,
    String dockerContainerId,
    String shell,
    String grpc,
    boolean grpcUseTls,
    String h2ping,
    boolean h2pingUseTls,
    String osService,
    String tlsServerName,
    boolean tlsSkipVerify,
    long timeoutNanos,
    long ttlNanos,
    int successBeforePassing,
    int failuresBeforeWarning,
    int failuresBeforeCritical,
    long deregisterCriticalServiceAfterNanos,
    int outputMaxSize) {

  /** Go's {@code reflect.DeepEqual(c, &CheckType{})}: a {@code "Check"} that says nothing. */
  boolean isEmpty() {
    return checkId.isEmpty()
        && name.isEmpty()
        && status.isEmpty()
        && notes.isEmpty()
        && scriptArgs == null
        && http.isEmpty()
        && header == null
        && method.isEmpty()
        && body.isEmpty()
        && !disableRedirects
        && tcp.isEmpty()
        && udp.isEmpty()
        && intervalNanos == 0
        && aliasNode.isEmpty()
        && aliasService.isEmpty()
        && dockerContainerId.isEmpty()
        && shell.isEmpty()
        && grpc.isEmpty()
        && !grpcUseTls
        && h2ping.isEmpty()
        && !h2pingUseTls
        && osService.isEmpty()
        && tlsServerName.isEmpty()
        && !tlsSkipVerify
        && timeoutNanos == 0
        && ttlNanos == 0
        && successBeforePassing == 0
        && failuresBeforeWarning == 0
        && failuresBeforeCritical == 0
        && deregisterCriticalServiceAfterNanos == 0
        && outputMaxSize == 0;
  }

  boolean isScript() {
    return scriptArgs != null && !scriptArgs.isEmpty();
  }

  boolean isAlias() {
    return !aliasNode.isEmpty() || !aliasService.isEmpty();
  }

  boolean isTtl() {
    return ttlNanos > 0;
  }

  boolean isHttp() {
    return !http.isEmpty() && intervalNanos > 0;
  }

  boolean isTcp() {
    return !tcp.isEmpty() && intervalNanos > 0;
  }

  boolean isGrpc() {
    return !grpc.isEmpty() && intervalNanos > 0;
  }

  /** Consul's {@code CheckType.Validate()}; the error text without the "Invalid check: " prefix. */
  @Nullable String validate() {
    boolean intervalCheck =
        isScript()
            || !http.isEmpty()
            || !tcp.isEmpty()
            || !udp.isEmpty()
            || !grpc.isEmpty()
            || !h2ping.isEmpty()
            || !osService.isEmpty();
    if (intervalNanos > 0 && ttlNanos > 0) {
      return "Interval and TTL cannot both be specified";
    }
    if (intervalCheck && intervalNanos <= 0) {
      return "Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks";
    }
    if (intervalCheck && isAlias()) {
      return "Interval cannot be set for Alias checks";
    }
    if (isAlias() && ttlNanos > 0) {
      return "TTL must be not be set for Alias checks";
    }
    if (!intervalCheck && !isAlias() && ttlNanos <= 0) {
      return "TTL must be > 0 for TTL checks";
    }
    if (outputMaxSize < 0) {
      return "MaxOutputMaxSize must be positive";
    }
    if (failuresBeforeWarning > failuresBeforeCritical) {
      return "FailuresBeforeWarning can't be higher than FailuresBeforeCritical";
    }
    return null;
  }

  /** Consul's {@code CheckType.Type()}: the {@code Type} field of the check in API output. */
  String type() {
    if (isGrpc()) {
      return "grpc";
    } else if (isHttp()) {
      return "http";
    } else if (isTtl()) {
      return "ttl";
    } else if (isTcp()) {
      return "tcp";
    } else if (!udp.isEmpty() && intervalNanos > 0) {
      return "udp";
    } else if (isAlias()) {
      return "alias";
    } else if (isScript() && !dockerContainerId.isEmpty() && intervalNanos > 0) {
      return "docker";
    } else if (isScript()) {
      return "script";
    } else if (!h2ping.isEmpty() && intervalNanos > 0) {
      return "h2ping";
    } else if (!osService.isEmpty() && intervalNanos > 0) {
      return "os_service";
    }
    return "";
  }
}
