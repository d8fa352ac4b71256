package dev.chassis.client;

import dev.chassis.internal.grpc.DetachedRoundRobinProvider;
import io.grpc.Status;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Builds grpc's service config (the JSON-shaped map of gRFC A2) from {@link ClientSettings}. grpc
 * expects JSON numbers as {@code Double} and durations as strings such as {@code "1.5s"}.
 */
final class ServiceConfigs {
  private ServiceConfigs() {}

  static Map<String, Object> from(ClientSettings settings) {
    Map<String, Object> config = new LinkedHashMap<>();
    config.put("loadBalancingConfig", List.of(loadBalancing(settings)));
    if (settings.healthCheckServiceName() != null) {
      // Client-side health checking (gRFC A17): grpc-services' round_robin watches each backend's
      // grpc.health.v1 status and skips it while it is not SERVING. pick_first ignores it.
      config.put("healthCheckConfig", Map.of("serviceName", settings.healthCheckServiceName()));
    }
    ClientSettings.RetryThrottling throttling = settings.retryThrottling();
    if (throttling != null) {
      config.put(
          "retryThrottling",
          Map.of(
              "maxTokens", (double) throttling.maxTokens(), "tokenRatio", throttling.tokenRatio()));
    }
    // Timeouts are not here: grpc would apply them as min(caller's deadline, timeout), cutting
    // short callers that chose a longer deadline. The default-deadline interceptor applies them
    // only to calls that have none.
    List<Object> methodConfigs = new ArrayList<>();
    if (settings.waitForReady()) {
      // The default entry (empty name) applies to every method without an entry of its own.
      Map<String, Object> defaults = new LinkedHashMap<>();
      defaults.put("name", List.of(Map.of()));
      defaults.put("waitForReady", true);
      methodConfigs.add(defaults);
    }
    for (Map.Entry<String, ClientSettings.MethodSettings> entry : settings.methods().entrySet()) {
      String key = entry.getKey();
      int slash = key.indexOf('/');
      // grpc picks one entry per call (method, else service, else default) and does not merge
      // them, so a method entry inherits what it leaves unset from its service entry, then from
      // the defaults.
      ClientSettings.MethodSettings service =
          slash < 0 ? null : settings.methods().get(key.substring(0, slash));
      methodConfigs.add(methodConfig(key, entry.getValue(), service, settings));
    }
    config.put("methodConfig", methodConfigs);
    return config;
  }

  private static Map<String, Object> loadBalancing(ClientSettings settings) {
    // round_robin is grpc's, with health-check streams kept out of callers' contexts.
    String name =
        settings.loadBalancingPolicy().equals("round_robin")
            ? DetachedRoundRobinProvider.POLICY_NAME
            : settings.loadBalancingPolicy();
    Map<String, Object> policy = Map.of(name, Map.of());
    ClientSettings.OutlierDetection outlier = settings.outlierDetection();
    if (outlier == null) {
      return policy;
    }
    // gRFC A50, in grpc-util (no xDS needed); the configured policy becomes its child.
    Map<String, Object> config = new LinkedHashMap<>();
    config.put("interval", seconds(outlier.interval()));
    config.put("baseEjectionTime", seconds(outlier.baseEjectionTime()));
    config.put("maxEjectionTime", seconds(outlier.maxEjectionTime()));
    config.put("maxEjectionPercent", (double) outlier.maxEjectionPercent());
    config.put(
        "failurePercentageEjection",
        Map.of(
            "threshold", (double) outlier.failurePercentageThreshold(),
            "enforcementPercentage", 100.0,
            "minimumHosts", (double) outlier.minimumHosts(),
            "requestVolume", (double) outlier.requestVolume()));
    config.put("childPolicy", List.of(policy));
    return Map.of("outlier_detection_experimental", config);
  }

  private static Map<String, Object> methodConfig(
      String key,
      ClientSettings.MethodSettings method,
      ClientSettings.@Nullable MethodSettings service,
      ClientSettings settings) {
    Map<String, Object> config = new LinkedHashMap<>();
    int slash = key.indexOf('/');
    Map<String, Object> name = new LinkedHashMap<>();
    name.put("service", slash < 0 ? key : key.substring(0, slash));
    if (slash >= 0) {
      name.put("method", key.substring(slash + 1));
    }
    config.put("name", List.of(name));
    boolean waitForReady =
        first(
            method.waitForReady(),
            service == null ? null : service.waitForReady(),
            settings.waitForReady());
    if (waitForReady) {
      config.put("waitForReady", true);
    }
    // retry and hedging exclude each other: both come from the most specific entry setting either.
    boolean methodChooses = method.retry() != null || method.hedging() != null;
    ClientSettings.MethodSettings policySource =
        methodChooses || service == null ? method : service;
    ClientSettings.Retry retry = policySource.retry();
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
    ClientSettings.Hedging hedging = policySource.hedging();
    if (hedging != null && retry == null) {
      Map<String, Object> policy = new LinkedHashMap<>();
      policy.put("maxAttempts", (double) hedging.maxAttempts());
      policy.put("hedgingDelay", seconds(hedging.hedgingDelay()));
      List<Object> codes = new ArrayList<>();
      for (Status.Code code : hedging.nonFatalStatusCodes()) {
        codes.add(code.name());
      }
      policy.put("nonFatalStatusCodes", codes);
      config.put("hedgingPolicy", policy);
    }
    return config;
  }

  private static <T extends @Nullable Object> T first(
      @Nullable T method, @Nullable T service, T defaults) {
    return method != null ? method : service != null ? service : defaults;
  }

  /** Protobuf JSON duration: seconds with up to nine fractional digits and an "s" suffix. */
  static String seconds(Duration duration) {
    BigDecimal seconds =
        BigDecimal.valueOf(duration.getSeconds()).add(BigDecimal.valueOf(duration.getNano(), 9));
    return seconds.stripTrailingZeros().toPlainString() + "s";
  }
}
