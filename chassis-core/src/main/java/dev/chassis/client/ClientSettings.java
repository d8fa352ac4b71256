package dev.chassis.client;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigUtil;
import dev.chassis.ChassisConfig;
import dev.chassis.internal.config.ConfigReader;
import dev.chassis.resilience.CircuitBreakerSettings;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** One client's settings: {@code chassis.clients."name"} over {@code chassis.client}, validated. */
record ClientSettings(
    @Nullable String target,
    String loadBalancingPolicy,
    @Nullable String healthCheckServiceName,
    @Nullable OutlierDetection outlierDetection,
    Duration timeout,
    boolean waitForReady,
    Duration keepAliveTime,
    Duration keepAliveTimeout,
    boolean keepAliveWithoutCalls,
    int maxInboundMessageSize,
    @Nullable String authority,
    Tls tls,
    CircuitBreakerSettings circuitBreaker,
    @Nullable RetryThrottling retryThrottling,
    Map<String, MethodSettings> methods) {

  private static final java.util.Set<String> METHOD_KEYS =
      java.util.Set.of("timeout", "wait-for-ready", "retry", "hedging");

  record RetryThrottling(int maxTokens, double tokenRatio) {}

  /** grpc's outlier_detection_experimental with failure-percentage ejection. */
  record OutlierDetection(
      Duration interval,
      Duration baseEjectionTime,
      Duration maxEjectionTime,
      int maxEjectionPercent,
      int failurePercentageThreshold,
      int minimumHosts,
      int requestVolume) {}

  record Hedging(int maxAttempts, Duration hedgingDelay, List<Status.Code> nonFatalStatusCodes) {}

  record Tls(
      boolean enabled,
      @Nullable Path ca,
      @Nullable Path cert,
      @Nullable Path key,
      Duration reloadInterval) {}

  /** A service ("pkg.Service") or method ("pkg.Service/Method") entry under {@code methods}. */
  record MethodSettings(
      @Nullable Duration timeout,
      @Nullable Boolean waitForReady,
      @Nullable Retry retry,
      @Nullable Hedging hedging) {}

  record Retry(
      int maxAttempts,
      Duration initialBackoff,
      Duration maxBackoff,
      double backoffMultiplier,
      List<Status.Code> retryableStatusCodes) {}

  static ClientSettings forService(ChassisConfig chassis, String serviceName) {
    Config raw = chassis.raw();
    String serviceKey = "chassis.clients." + ConfigUtil.joinPath(serviceName);
    Config merged = raw.getConfig("chassis.client");
    String prefix = "chassis.client";
    if (raw.hasPath(serviceKey)) {
      merged = raw.getConfig(serviceKey).withFallback(merged);
      prefix = serviceKey;
    }
    ConfigReader reader = ConfigReader.of(merged, prefix);
    String policy = reader.string("load-balancing-policy");
    if (!policy.equals("round_robin") && !policy.equals("pick_first")) {
      throw reader.invalid("load-balancing-policy", "round_robin or pick_first", null);
    }
    ConfigReader tls = reader.at("tls");
    Path cert = tls.optionalPath("cert");
    Path key = tls.optionalPath("key");
    if ((cert == null) != (key == null)) {
      throw tls.invalid(cert == null ? "cert" : "key", "tls.cert and tls.key set together", null);
    }
    return new ClientSettings(
        reader.optionalString("target"),
        policy,
        reader.bool("health-check-enabled") ? reader.string("health-check-service-name") : null,
        outlierDetection(reader.at("outlier-detection")),
        reader.duration("timeout", true),
        reader.bool("wait-for-ready"),
        reader.duration("keepalive-time", false),
        reader.duration("keepalive-timeout", false),
        reader.bool("keepalive-without-calls"),
        reader.bytes("max-inbound-message-size", Integer.MAX_VALUE),
        reader.optionalString("authority"),
        new Tls(
            tls.bool("enabled"),
            tls.optionalPath("ca"),
            cert,
            key,
            tls.duration("reload-interval", false)),
        circuitBreaker(reader.at("circuit-breaker")),
        retryThrottling(reader.at("retry-throttling")),
        methods(reader));
  }

  private static Map<String, MethodSettings> methods(ConfigReader reader) {
    Map<String, MethodSettings> methods = new LinkedHashMap<>();
    Config all = reader.config().getConfig("methods");
    for (String name : all.root().keySet()) {
      String path = ConfigUtil.joinPath("methods", name);
      if (!name.matches("[A-Za-z_][\\w.]*(/[A-Za-z_]\\w*)?")) {
        throw reader.invalid(path, "a key \"package.Service\" or \"package.Service/Method\"", null);
      }
      ConfigReader method = reader.at(path);
      // An unquoted key such as user.v1.UserService/GetUser { ... } parses as nested objects;
      // reject anything but the known keys instead of silently ignoring the entry.
      for (String key : method.config().root().keySet()) {
        if (!METHOD_KEYS.contains(key)) {
          throw method.invalid(
              key,
              "only timeout, wait-for-ready and retry in a method entry; quote the entry's key,"
                  + " as in \"user.v1.UserService/GetUser\" { ... }",
              null);
        }
      }
      methods.put(
          name,
          new MethodSettings(
              method.has("timeout") ? method.duration("timeout", true) : null,
              method.has("wait-for-ready") ? method.bool("wait-for-ready") : null,
              method.has("retry") ? retry(reader, path) : null,
              method.has("hedging") ? hedging(method.at("hedging")) : null));
      if (method.has("retry") && method.has("hedging")) {
        throw method.invalid("hedging", "either retry or hedging in one entry, not both", null);
      }
    }
    return java.util.Collections.unmodifiableMap(methods);
  }

  private static @Nullable OutlierDetection outlierDetection(ConfigReader outlier) {
    if (!outlier.bool("enabled")) {
      return null;
    }
    Duration base = outlier.duration("base-ejection-time", false);
    Duration max = outlier.duration("max-ejection-time", false);
    if (max.compareTo(base) < 0) {
      throw outlier.invalid(
          "max-ejection-time", "at least base-ejection-time (" + base + ")", null);
    }
    return new OutlierDetection(
        outlier.duration("interval", false),
        base,
        max,
        outlier.integer("max-ejection-percent", 0, 100),
        outlier.integer("failure-percentage-threshold", 0, 100),
        outlier.integer("minimum-hosts", 1, 100_000),
        outlier.integer("request-volume", 1, 10_000_000));
  }

  private static CircuitBreakerSettings circuitBreaker(ConfigReader breaker) {
    java.util.Set<Status.Code> failureCodes =
        new java.util.HashSet<>(CircuitBreakerSettings.DEFAULT_FAILURE_CODES);
    if (breaker.bool("resource-exhausted-is-failure")) {
      failureCodes.add(Status.Code.RESOURCE_EXHAUSTED);
    }
    return new CircuitBreakerSettings(
        breaker.bool("enabled"),
        breaker.bool("per-method"),
        (float) breaker.number("failure-rate-threshold", 1, 100),
        (float) breaker.number("slow-call-rate-threshold", 1, 100),
        breaker.duration("slow-call-duration-threshold", false),
        breaker.integer("sliding-window-size", 1, 100_000),
        breaker.integer("minimum-number-of-calls", 1, 100_000),
        breaker.duration("wait-duration-in-open-state", false),
        breaker.integer("permitted-calls-in-half-open-state", 1, 10_000),
        failureCodes);
  }

  private static @Nullable RetryThrottling retryThrottling(ConfigReader throttling) {
    if (!throttling.bool("enabled")) {
      return null;
    }
    return new RetryThrottling(
        throttling.integer("max-tokens", 1, 1000), throttling.number("token-ratio", 0.001, 1000));
  }

  private static Hedging hedging(ConfigReader hedging) {
    return new Hedging(
        hedging.integer("max-attempts", 2, 5),
        hedging.duration("hedging-delay", true),
        hedging.has("non-fatal-status-codes")
            ? codes(hedging, "non-fatal-status-codes")
            : List.of());
  }

  private static List<Status.Code> codes(ConfigReader reader, String path) {
    List<Status.Code> codes = new ArrayList<>();
    for (String code : reader.strings(path)) {
      try {
        codes.add(Status.Code.valueOf(code.trim().toUpperCase(Locale.ROOT)));
      } catch (IllegalArgumentException e) {
        throw reader.invalid(path, "gRPC code names such as UNAVAILABLE", e);
      }
    }
    if (codes.contains(Status.Code.OK)) {
      throw reader.invalid(path, "error codes, not OK", null);
    }
    return List.copyOf(codes);
  }

  /** The timeout for a full method name: method entry, else its service's, else the default. */
  Duration timeoutFor(String fullMethodName) {
    MethodSettings method = methods.get(fullMethodName);
    if (method != null && method.timeout() != null) {
      return method.timeout();
    }
    int slash = fullMethodName.indexOf('/');
    MethodSettings service = slash < 0 ? null : methods.get(fullMethodName.substring(0, slash));
    if (service != null && service.timeout() != null) {
      return service.timeout();
    }
    return timeout;
  }

  private static Retry retry(ConfigReader client, String methodPath) {
    // Keys a method's retry block leaves out come from chassis.client.retry-defaults.
    String path = methodPath + ".retry";
    Config merged =
        client.config().getConfig(path).withFallback(client.config().getConfig("retry-defaults"));
    ConfigReader retry = ConfigReader.of(merged, client.key(path));
    List<Status.Code> codes = new ArrayList<>();
    for (String code : retry.strings("retryable-status-codes")) {
      try {
        codes.add(Status.Code.valueOf(code.trim().toUpperCase(Locale.ROOT)));
      } catch (IllegalArgumentException e) {
        throw retry.invalid("retryable-status-codes", "gRPC code names such as UNAVAILABLE", e);
      }
    }
    if (codes.isEmpty() || codes.contains(Status.Code.OK)) {
      throw retry.invalid("retryable-status-codes", "at least one error code, not OK", null);
    }
    return new Retry(
        retry.integer("max-attempts", 2, 5),
        retry.duration("initial-backoff", false),
        retry.duration("max-backoff", false),
        retry.number("backoff-multiplier", 1.0, 10.0),
        List.copyOf(codes));
  }
}
