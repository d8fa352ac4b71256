package dev.chassis.testing.consul;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A decoded {@code PUT /v1/agent/service/register} body, as Consul's {@code
 * structs.ServiceDefinition}. Absent strings are {@code ""}, absent numbers {@code 0}; {@code
 * meta}, {@code weights} and the opaque Connect objects are {@code null} when absent.
 */
record ServiceDefinition(
    String kind,
    String id,
    String name,
    List<String> tags,
    String address,
    Map<String, TaggedAddress> taggedAddresses,
    @Nullable Map<String, String> meta,
    int port,
    String socketPath,
    CheckDefinition check,
    List<CheckDefinition> checks,
    @Nullable Weights weights,
    boolean enableTagOverride,
    @Nullable JsonNode proxy,
    @Nullable JsonNode connect,
    @Nullable JsonNode locality) {

  /** A {@code TaggedAddresses} value: {@code {"Address": ..., "Port": ...}}. */
  record TaggedAddress(String address, int port) {}

  /** DNS weights; Consul's default is {@code {"Passing": 1, "Warning": 1}}. */
  record Weights(int passing, int warning) {}

  /** The check list Consul builds: {@code Check} first (unless empty), then {@code Checks}. */
  List<CheckDefinition> allChecks() {
    if (check.isEmpty()) {
      return checks;
    }
    List<CheckDefinition> all = new ArrayList<>(checks.size() + 1);
    all.add(check);
    all.addAll(checks);
    return all;
  }
}
