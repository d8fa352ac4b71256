package dev.chassis.client;

import io.grpc.Status;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds grpc's service config (the JSON-shaped map of gRFC A2) from {@link ClientSettings}. grpc
 * expects JSON numbers as {@code Double} and durations as strings such as {@code "1.5s"}.
 */
final class ServiceConfigs {
  private ServiceConfigs() {}

  static Map<String, Object> from(ClientSettings settings) {
    Map<String, Object> config = new LinkedHashMap<>();
    config.put(
        "loadBalancingConfig", List.of(Map.of(settings.loadBalancingPolicy(), Map.of())));
    List<Object> methodConfigs = new ArrayList<>();
    // The default entry (empty name) applies to every method without an entry of its own.
    Map<String, Object> defaults = new LinkedHashMap<>();
    defaults.put("name", List.of(Map.of()));
    putTimeout(defaults, settings.timeout());
    if (settings.waitForReady()) {
      defaults.put("waitForReady", true);
    }
    methodConfigs.add(defaults);
    for (Map.Entry<String, ClientSettings.MethodSettings> entry : settings.methods().entrySet()) {
      methodConfigs.add(methodConfig(entry.getKey(), entry.getValue(), settings));
    }
    config.put("methodConfig", methodConfigs);
    return config;
  }

  private static Map<String, Object> methodConfig(
      String key, ClientSettings.MethodSettings method, ClientSettings settings) {
    Map<String, Object> config = new LinkedHashMap<>();
    int slash = key.indexOf('/');
    Map<String, Object> name = new LinkedHashMap<>();
    name.put("service", slash < 0 ? key : key.substring(0, slash));
    if (slash >= 0) {
      name.put("method", key.substring(slash + 1));
    }
    config.put("name", List.of(name));
    // A method entry replaces the default entry entirely in grpc, so inherit unset values here.
    putTimeout(config, method.timeout() != null ? method.timeout() : settings.timeout());
    boolean waitForReady =
        method.waitForReady() != null ? method.waitForReady() : settings.waitForReady();
    if (waitForReady) {
      config.put("waitForReady", true);
    }
    ClientSettings.Retry retry = method.retry();
    if (retry != null) {
      Map<String, Object> policy = new LinkedHashMap<>();
      policy.put("maxAttempts", (double) retry.maxAttempts());
      policy.put("initialBackoff", seconds(retry.initialBackoff()));
      policy.put("maxBackoff", seconds(retry.maxBackoff()));
      policy.put("backoffMultiplier", retry.backoffMultiplier());
      List<Object> codes = new ArrayList<>();
      for (Status.Code code : retry.retryableStatusCodes()) {
        codes.add(code.name());
      }
      policy.put("retryableStatusCodes", codes);
      config.put("retryPolicy", policy);
    }
    return config;
  }

  private static void putTimeout(Map<String, Object> config, Duration timeout) {
    if (!timeout.isZero()) {
      config.put("timeout", seconds(timeout));
    }
  }

  /** Protobuf JSON duration: seconds with up to nine fractional digits and an "s" suffix. */
  static String seconds(Duration duration) {
    BigDecimal seconds =
        BigDecimal.valueOf(duration.getSeconds()).add(BigDecimal.valueOf(duration.getNano(), 9));
    return seconds.stripTrailingZeros().toPlainString() + "s";
  }
}
