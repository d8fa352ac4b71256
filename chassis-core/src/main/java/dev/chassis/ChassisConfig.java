package dev.chassis;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import dev.chassis.discovery.consul.ConsulSettings;
import dev.chassis.internal.config.ConfigReader;
import dev.chassis.resilience.ConcurrencyLimitSettings;
import dev.chassis.resilience.RateLimitSettings;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The typed, validated view of a service's configuration. Immutable and thread-safe.
 *
 * <p>Values come from, lowest precedence first: {@code reference.conf} shipped in chassis-core, the
 * service's {@code application.conf}, the environment variables in the table below, and {@code -D}
 * system properties. Every key is documented in {@code reference.conf} and {@code
 * docs/configuration.md}.
 *
 * <table>
 *   <caption>Environment variables</caption>
 *   <tr><th>variable</th><th>key</th></tr>
 *   <tr><td>CHASSIS_SERVICE_NAME</td><td>chassis.service.name</td></tr>
 *   <tr><td>CHASSIS_GRPC_PORT</td><td>chassis.grpc.port</td></tr>
 *   <tr><td>CHASSIS_ADMIN_PORT</td><td>chassis.admin.port</td></tr>
 *   <tr><td>CHASSIS_SHUTDOWN_GRACE</td><td>chassis.shutdown.grace</td></tr>
 *   <tr><td>CONSUL_HTTP_ADDR</td><td>chassis.discovery.consul.address</td></tr>
 *   <tr><td>CHASSIS_TLS_CERT, CHASSIS_TLS_KEY</td><td>chassis.tls.cert, chassis.tls.key</td></tr>
 *   <tr><td>CHASSIS_TLS_CLIENT_CA</td><td>chassis.tls.client-ca</td></tr>
 *   <tr><td>CONSUL_HTTP_TOKEN</td><td>chassis.discovery.consul.token</td></tr>
 *   <tr><td>CHASSIS_AUTHZ_POLICY</td><td>chassis.authorization.policy-file</td></tr>
 *   <tr><td>CHASSIS_ADVERTISE_ADDRESS, CHASSIS_ADVERTISE_PORT</td>
 *       <td>chassis.discovery.consul.registration.advertise-address, .advertise-port</td></tr>
 * </table>
 *
 * <p>Invalid values fail in {@link #load()} with a {@link ChassisConfigException} that names the
 * key, the value and what was expected.
 *
 * <pre>{@code
 * ChassisConfig config = ChassisConfig.load();
 * int port = config.grpc().port();
 * }</pre>
 */
public final class ChassisConfig {
  /** Environment variables that override keys, in the order of DESIGN.md's table. */
  static final Map<String, String> ENVIRONMENT_KEYS =
      Map.ofEntries(
          Map.entry("CHASSIS_SERVICE_NAME", "chassis.service.name"),
          Map.entry("CHASSIS_GRPC_PORT", "chassis.grpc.port"),
          Map.entry("CHASSIS_ADMIN_PORT", "chassis.admin.port"),
          Map.entry("CHASSIS_GRPC_WEB_PORT", "chassis.grpc-web.port"),
          Map.entry("CHASSIS_GRPC_WEB_ALLOWED_ORIGINS", "chassis.grpc-web.allowed-origins"),
          Map.entry("CHASSIS_SHUTDOWN_GRACE", "chassis.shutdown.grace"),
          Map.entry("CONSUL_HTTP_ADDR", "chassis.discovery.consul.address"),
          Map.entry("CHASSIS_TLS_CERT", "chassis.tls.cert"),
          Map.entry("CHASSIS_TLS_KEY", "chassis.tls.key"),
          Map.entry("CHASSIS_TLS_CLIENT_CA", "chassis.tls.client-ca"),
          // Beyond DESIGN.md's table: Consul's own token variable, and the address others
          // reach a container at (Kubernetes: the pod IP through the downward API).
          Map.entry("CONSUL_HTTP_TOKEN", "chassis.discovery.consul.token"),
          Map.entry("CHASSIS_AUTHZ_POLICY", "chassis.authorization.policy-file"),
          Map.entry(
              "CHASSIS_ADVERTISE_ADDRESS",
              "chassis.discovery.consul.registration.advertise-address"),
          Map.entry(
              "CHASSIS_ADVERTISE_PORT", "chassis.discovery.consul.registration.advertise-port"));

  private static final Pattern SERVICE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
  private static final String FALLBACK_SERVICE_NAME = "chassis-service";

  /** Server transport settings ({@code chassis.grpc.*}). */
  public record Grpc(
      String host,
      int port,
      int maxInboundMessageSize,
      int maxInboundMetadataSize,
      Duration maxConnectionAge,
      Duration maxConnectionAgeGrace,
      Duration keepAliveTime,
      Duration keepAliveTimeout,
      Duration permitKeepAliveTime,
      boolean permitKeepAliveWithoutCalls,
      int executorThreads,
      boolean reflection) {}

  /** Admin HTTP settings ({@code chassis.admin.*}); port -1 means disabled. */
  public record Admin(String host, int port) {
    /** Whether the admin HTTP server runs. */
    public boolean enabled() {
      return port >= 0;
    }
  }

  /**
   * gRPC-Web for browsers ({@code chassis.grpc-web.*}); port -1 means disabled.
   *
   * @param allowedOrigins normalised {@code scheme://host[:port]} origins, or {@code "*"}
   */
  public record GrpcWeb(
      String host,
      int port,
      List<String> allowedOrigins,
      Duration corsMaxAge,
      int maxMessageSize,
      int maxHeaderSize,
      Duration idleTimeout) {
    public GrpcWeb {
      allowedOrigins = List.copyOf(allowedOrigins);
    }

    /** Whether the gRPC-Web server runs. */
    public boolean enabled() {
      return port >= 0;
    }
  }

  /** Readiness check scheduling ({@code chassis.health.*}). */
  public record Health(Duration checkInterval, Duration checkTimeout) {}

  /** Graceful shutdown settings ({@code chassis.shutdown.*}). */
  public record Shutdown(Duration grace, Duration drainDelay, boolean handleSignals) {}

  /**
   * Server protection ({@code chassis.limits.*}).
   *
   * @param rate null when no rate rule is configured
   * @param concurrency null when the concurrency limit is disabled
   */
  public record Limits(
      Duration maxDeadline,
      @Nullable RateLimitSettings rate,
      @Nullable ConcurrencyLimitSettings concurrency) {}

  /**
   * Authorization ({@code chassis.authorization.*}).
   *
   * @param policyFile the gRFC A43 policy; null: no authorization
   * @param reloadInterval how often the file is re-read
   * @param protectHealthAndReflection whether the policy also guards health and reflection
   */
  public record Authorization(
      @Nullable Path policyFile, Duration reloadInterval, boolean protectHealthAndReflection) {}

  /** The access log ({@code chassis.logging.access-log.*}). */
  public record AccessLog(boolean enabled, org.slf4j.event.Level level, double okSampleRate) {}

  /** Server TLS files ({@code chassis.tls.*}); all null means plaintext. */
  public record Tls(
      @Nullable Path cert, @Nullable Path key, @Nullable Path clientCa, Duration reloadInterval) {
    /** Whether the gRPC port serves TLS. */
    public boolean enabled() {
      return cert != null;
    }

    /** Whether clients must present a certificate (mutual TLS). */
    public boolean mutual() {
      return clientCa != null;
    }
  }

  private final Config raw;
  private final String serviceName;
  private final String serviceVersion;
  private final Grpc grpc;
  private final Admin admin;
  private final GrpcWeb grpcWeb;
  private final Health health;
  private final Shutdown shutdown;
  private final Tls tls;
  private final AccessLog accessLog;
  private final Limits limits;
  private final ConsulSettings consul;
  private final Authorization authorization;

  private ChassisConfig(Config raw) {
    this.raw = raw;
    ConfigReader chassis = ConfigReader.of(raw).at("chassis");
    this.serviceName = serviceName(chassis);
    this.serviceVersion = chassis.string("service.version");
    this.grpc =
        new Grpc(
            chassis.string("grpc.host"),
            chassis.port("grpc.port", false),
            chassis.bytes("grpc.max-inbound-message-size", Integer.MAX_VALUE),
            chassis.bytes("grpc.max-inbound-metadata-size", Integer.MAX_VALUE),
            chassis.duration("grpc.max-connection-age", false),
            chassis.duration("grpc.max-connection-age-grace", false),
            chassis.duration("grpc.keepalive-time", false),
            chassis.duration("grpc.keepalive-timeout", false),
            chassis.duration("grpc.permit-keepalive-time", true),
            chassis.bool("grpc.permit-keepalive-without-calls"),
            chassis.integer("grpc.executor-threads", 0, 10_000),
            chassis.bool("grpc.reflection"));
    this.admin = new Admin(chassis.string("admin.host"), chassis.port("admin.port", true));
    this.grpcWeb = grpcWeb(chassis);
    this.health =
        new Health(
            chassis.duration("health.check-interval", false),
            chassis.duration("health.check-timeout", false));
    this.shutdown =
        new Shutdown(
            chassis.duration("shutdown.grace", false),
            chassis.duration("shutdown.drain-delay", true),
            chassis.bool("shutdown.handle-signals"));
    this.tls = tls(chassis);
    this.accessLog = accessLog(chassis);
    this.limits = limits(chassis.at("limits"));
    this.consul = consul(chassis);
    this.authorization =
        new Authorization(
            chassis.optionalPath("authorization.policy-file"),
            chassis.duration("authorization.reload-interval", false),
            chassis.bool("authorization.protect-health-and-reflection"));
  }

  /**
   * Loads the configuration of this process: {@code reference.conf}, {@code application.conf} (or
   * the file named by {@code -Dconfig.file}), the environment and system properties.
   *
   * @throws ChassisConfigException when a value is invalid
   */
  public static ChassisConfig load() {
    return load(
        Thread.currentThread().getContextClassLoader(), System.getenv(), System.getProperties());
  }

  static ChassisConfig load(ClassLoader classLoader, Map<String, String> env, Properties props) {
    try {
      ConfigFactory.invalidateCaches();
      Config merged =
          ConfigFactory.parseProperties(props)
              .withFallback(environmentOverlay(env))
              .withFallback(ConfigFactory.defaultApplication(classLoader))
              .withFallback(ConfigFactory.defaultReferenceUnresolved(classLoader))
              .resolve();
      return new ChassisConfig(merged);
    } catch (ConfigException e) {
      throw new ChassisConfigException("invalid configuration: " + e.getMessage(), e);
    }
  }

  /**
   * Chassis defaults overlaid with the given HOCON text, ignoring {@code application.conf}, the
   * environment and system properties. Meant for tests and embedding, for example {@code
   * ChassisConfig.of("chassis.grpc.port = 0")}.
   *
   * @throws ChassisConfigException when the text does not parse or a value is invalid
   */
  public static ChassisConfig of(String hocon) {
    try {
      // defaultReference() would layer -D system properties over the defaults; this must not.
      return from(
          ConfigFactory.parseString(hocon)
              .withFallback(ConfigFactory.defaultReferenceUnresolved()));
    } catch (ConfigException e) {
      throw new ChassisConfigException("invalid configuration: " + e.getMessage(), e);
    }
  }

  /**
   * Wraps an already assembled Typesafe {@link Config}, which must contain Chassis's {@code
   * reference.conf} (for example via {@code withFallback(ConfigFactory.defaultReference())}).
   *
   * @throws ChassisConfigException when a value is invalid
   */
  public static ChassisConfig from(Config config) {
    try {
      return new ChassisConfig(config.resolve());
    } catch (ConfigException e) {
      throw new ChassisConfigException("invalid configuration: " + e.getMessage(), e);
    }
  }

  /**
   * The same configuration with {@code hocon} layered on top, for tests and tools that adjust a
   * loaded configuration (for example {@code config.with("chassis.grpc.port = 0")}).
   */
  public ChassisConfig with(String hocon) {
    try {
      return new ChassisConfig(ConfigFactory.parseString(hocon).withFallback(raw).resolve());
    } catch (ConfigException e) {
      throw new ChassisConfigException("invalid configuration: " + e.getMessage(), e);
    }
  }

  /**
   * The environment variables Chassis reads, each with the key it sets (the table above), for tools
   * and tests that check what a deployment sets.
   */
  public static Map<String, String> environmentVariables() {
    return ENVIRONMENT_KEYS;
  }

  private static Config environmentOverlay(Map<String, String> env) {
    Config overlay = ConfigFactory.empty("environment variables");
    for (Map.Entry<String, String> entry : ENVIRONMENT_KEYS.entrySet()) {
      String value = env.get(entry.getKey());
      if (value != null && !value.isBlank()) {
        overlay =
            overlay.withValue(
                entry.getValue(),
                ConfigValueFactory.fromAnyRef(value.trim(), "env var " + entry.getKey()));
      }
    }
    return overlay;
  }

  private static String serviceName(ConfigReader chassis) {
    String name = chassis.optionalString("service.name");
    if (name == null) {
      name = jarName();
    }
    if (!SERVICE_NAME.matcher(name).matches()) {
      throw chassis.invalid(
          "service.name", "1 to 63 letters, digits, '.', '_' or '-', starting alphanumeric", null);
    }
    return name;
  }

  /** {@code java -jar path/to/my-service.jar} gives {@code my-service}; otherwise a fallback. */
  private static String jarName() {
    String command = System.getProperty("sun.java.command", "").trim();
    String first = command.isEmpty() ? "" : command.split("\\s+", 2)[0];
    if (first.endsWith(".jar")) {
      String file = Path.of(first).getFileName().toString();
      String name = file.substring(0, file.length() - ".jar".length());
      if (SERVICE_NAME.matcher(name).matches()) {
        return name;
      }
    }
    return FALLBACK_SERVICE_NAME;
  }

  private static Tls tls(ConfigReader chassis) {
    Path cert = chassis.optionalPath("tls.cert");
    Path key = chassis.optionalPath("tls.key");
    Path clientCa = chassis.optionalPath("tls.client-ca");
    if ((cert == null) != (key == null)) {
      String missing = cert == null ? "tls.cert" : "tls.key";
      throw chassis.invalid(
          missing, "set together with chassis.tls.cert and chassis.tls.key", null);
    }
    if (clientCa != null && cert == null) {
      throw chassis.invalid(
          "tls.cert", "a certificate file, since chassis.tls.client-ca is set", null);
    }
    return new Tls(cert, key, clientCa, chassis.duration("tls.reload-interval", false));
  }

  private static GrpcWeb grpcWeb(ConfigReader chassis) {
    // A list in HOCON; a comma-separated string from CHASSIS_GRPC_WEB_ALLOWED_ORIGINS.
    String key = "grpc-web.allowed-origins";
    List<String> listed =
        chassis.config().getValue(key).valueType() == ConfigValueType.STRING
            ? List.of(chassis.string(key).split(","))
            : chassis.strings(key);
    List<String> origins = new ArrayList<>();
    for (String origin : listed) {
      String trimmed = origin.trim();
      if (trimmed.isEmpty()) {
        continue;
      }
      if (trimmed.equals("*")) {
        origins.add(trimmed);
        continue;
      }
      URI uri;
      try {
        uri = new URI(trimmed.endsWith("/") ? trimmed.substring(0, trimmed.length() - 1) : trimmed);
      } catch (URISyntaxException e) {
        throw chassis.invalid(key, "\"*\" or origins such as https://app.example.com", e);
      }
      if (uri.getScheme() == null
          || !(uri.getScheme().equalsIgnoreCase("http")
              || uri.getScheme().equalsIgnoreCase("https"))
          || uri.getHost() == null
          || !uri.getRawPath().isEmpty()
          || uri.getRawQuery() != null
          || uri.getRawFragment() != null
          || uri.getRawUserInfo() != null) {
        throw chassis.invalid(key, "\"*\" or origins such as https://app.example.com", null);
      }
      origins.add(
          uri.getScheme().toLowerCase(Locale.ROOT)
              + "://"
              + uri.getHost().toLowerCase(Locale.ROOT)
              + (uri.getPort() == -1 ? "" : ":" + uri.getPort()));
    }
    return new GrpcWeb(
        chassis.string("grpc-web.host"),
        chassis.port("grpc-web.port", true),
        origins,
        chassis.duration("grpc-web.cors-max-age", true),
        chassis.bytes("grpc-web.max-message-size", Integer.MAX_VALUE - 64),
        chassis.bytes("grpc-web.max-header-size", Integer.MAX_VALUE),
        chassis.duration("grpc-web.idle-timeout", false));
  }

  private static Limits limits(ConfigReader limits) {
    return new Limits(
        limits.duration("max-deadline", false), rateLimits(limits.at("rate")), concurrency(limits));
  }

  private static @Nullable RateLimitSettings rateLimits(ConfigReader rate) {
    Map<String, RateLimitSettings.Rate> rules = new LinkedHashMap<>();
    for (String key : rate.config().getObject("methods").keySet()) {
      String path = ConfigUtil.joinPath("methods", key);
      if (!key.equals("*") && !key.matches("[A-Za-z_][\\w.]*(/[A-Za-z_]\\w*)?")) {
        throw rate.invalid(path, "a key \"pkg.Service/Method\", \"pkg.Service\" or \"*\"", null);
      }
      if (!rate.config()
              .getValue(path)
              .valueType()
              .equals(com.typesafe.config.ConfigValueType.OBJECT)
          || !rate.config().getConfig(path).hasPath("permits")) {
        throw rate.invalid(
            path,
            "{ permits = N, period = 1s }; quote the key, as in \"user.v1.UserService/GetUser\"",
            null);
      }
      ConfigReader rule = rate.at(path);
      try {
        rules.put(
            key,
            new RateLimitSettings.Rate(
                rule.integer("permits", 1, Integer.MAX_VALUE), rule.duration("period", false)));
      } catch (IllegalArgumentException e) {
        throw rule.invalid("permits", "a positive rate", e);
      }
    }
    if (rules.isEmpty()) {
      return null;
    }
    RateLimitSettings settings;
    try {
      settings =
          RateLimitSettings.of(rules).withMaxCallers(rate.integer("max-callers", 1, 10_000_000));
    } catch (IllegalArgumentException e) {
      throw rate.invalid("methods", "valid rate rules: " + e.getMessage(), e);
    }
    String callerKey = rate.optionalString("caller-metadata-key");
    if (rate.bool("caller-peer-identity")) {
      if (callerKey != null) {
        throw rate.invalid(
            "caller-peer-identity", "false when caller-metadata-key is set (one caller key)", null);
      }
      return settings.perPeerIdentity();
    }
    try {
      return callerKey == null ? settings : settings.perCaller(callerKey);
    } catch (IllegalArgumentException e) {
      throw rate.invalid(
          "caller-metadata-key", "an ASCII request header name: " + e.getMessage(), e);
    }
  }

  private static @Nullable ConcurrencyLimitSettings concurrency(ConfigReader limits) {
    ConfigReader concurrency = limits.at("concurrency");
    if (!concurrency.bool("enabled")) {
      return null;
    }
    String mode = concurrency.string("mode").trim().toUpperCase(Locale.ROOT);
    int limit = concurrency.integer("limit", 1, 1_000_000);
    int min = concurrency.integer("min-limit", 1, 1_000_000);
    int max = concurrency.integer("max-limit", 1, 1_000_000);
    try {
      return switch (mode) {
        case "FIXED" -> ConcurrencyLimitSettings.fixed(limit);
        case "GRADIENT2" -> ConcurrencyLimitSettings.gradient2(limit, min, max);
        case "VEGAS" -> ConcurrencyLimitSettings.vegas(limit, min, max);
        default -> throw concurrency.invalid("mode", "FIXED, GRADIENT2 or VEGAS", null);
      };
    } catch (IllegalArgumentException e) {
      throw concurrency.invalid("limit", "min-limit <= limit <= max-limit: " + e.getMessage(), e);
    }
  }

  private static AccessLog accessLog(ConfigReader chassis) {
    String level = chassis.string("logging.access-log.level").trim().toUpperCase(Locale.ROOT);
    org.slf4j.event.Level parsed;
    try {
      parsed = org.slf4j.event.Level.valueOf(level);
    } catch (IllegalArgumentException e) {
      throw chassis.invalid("logging.access-log.level", "TRACE, DEBUG, INFO, WARN or ERROR", e);
    }
    return new AccessLog(
        chassis.bool("logging.access-log.enabled"),
        parsed,
        chassis.number("logging.access-log.ok-sample-rate", 0.0, 1.0));
  }

  private static ConsulSettings consul(ConfigReader chassis) {
    ConfigReader consul = chassis.at("discovery.consul");
    ConfigReader registration = consul.at("registration");
    ConfigReader check = consul.at("check");
    String token = consul.optionalString("token");
    String id = registration.optionalString("id");
    if (id != null && !id.matches("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")) {
      throw registration.invalid("id", "letters, digits, '.', '_', ':' or '-'", null);
    }
    String advertise = registration.optionalString("advertise-address");
    if (advertise != null && advertise.matches("0\\.0\\.0\\.0|::|\\[::\\]")) {
      throw registration.invalid(
          "advertise-address", "an address other services can connect to, not a wildcard", null);
    }
    Map<String, String> meta = new LinkedHashMap<>();
    for (String key : registration.config().getObject("meta").keySet()) {
      meta.put(key, registration.string(ConfigUtil.joinPath("meta", key)));
    }
    String mode = check.string("mode").trim().toUpperCase(Locale.ROOT);
    ConsulSettings.CheckMode checkMode;
    try {
      checkMode = ConsulSettings.CheckMode.valueOf(mode);
    } catch (IllegalArgumentException e) {
      throw check.invalid("mode", "grpc or ttl", e);
    }
    Duration watchWait = consul.duration("watch-wait", false);
    if (watchWait.toMillis() % 1000 != 0
        || watchWait.compareTo(Duration.ofSeconds(1)) < 0
        || watchWait.compareTo(Duration.ofMinutes(10)) > 0) {
      // Consul takes whole seconds here and caps waits at 10 minutes.
      throw consul.invalid("watch-wait", "whole seconds from 1s to 10m", null);
    }
    Duration ttl = check.duration("ttl", false);
    if (ttl.compareTo(Duration.ofSeconds(1)) < 0) {
      throw check.invalid("ttl", "at least 1s", null);
    }
    requireNotBelow(registration, "max-backoff", "initial-backoff");
    requireNotBelow(consul, "error-max-backoff", "error-initial-backoff");
    return new ConsulSettings(
        consulAddress(chassis),
        token == null || token.isBlank() ? null : token,
        consul.duration("request-timeout", false),
        new ConsulSettings.Registration(
            registration.bool("enabled"),
            id,
            advertise,
            registration.has("advertise-port") ? registration.port("advertise-port", false) : 0,
            registration.strings("tags"),
            meta,
            registration.bool("fail-fast"),
            registration.duration("fail-fast-timeout", false),
            registration.duration("initial-backoff", false),
            registration.duration("max-backoff", false),
            registration.duration("verify-interval", false)),
        new ConsulSettings.Check(
            checkMode,
            check.duration("interval", false),
            check.duration("timeout", false),
            check.bool("tls-skip-verify"),
            ttl,
            check.duration("deregister-critical-after", false)),
        watchWait,
        consul.duration("error-initial-backoff", false),
        consul.duration("error-max-backoff", false));
  }

  private static void requireNotBelow(ConfigReader reader, String max, String min) {
    Duration minimum = reader.duration(min, false);
    if (reader.duration(max, false).compareTo(minimum) < 0) {
      throw reader.invalid(max, "at least " + min + " (" + minimum + ")", null);
    }
  }

  private static @Nullable URI consulAddress(ConfigReader chassis) {
    String value = chassis.optionalString("discovery.consul.address");
    if (value == null) {
      return null;
    }
    // Consul's own CLI accepts "127.0.0.1:8500" without a scheme; so do we.
    String withScheme = value.contains("://") ? value : "http://" + value;
    try {
      URI uri = URI.create(withScheme);
      String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
      if (uri.getHost() == null || !(scheme.equals("http") || scheme.equals("https"))) {
        throw new IllegalArgumentException("not an http(s) address");
      }
      return uri;
    } catch (IllegalArgumentException e) {
      throw chassis.invalid(
          "discovery.consul.address", "an address such as http://127.0.0.1:8500", e);
    }
  }

  /** The underlying Typesafe config, for keys outside Chassis (for example the application's). */
  public Config raw() {
    return raw;
  }

  /** {@code chassis.service.name}. */
  public String serviceName() {
    return serviceName;
  }

  /** {@code chassis.service.version}; empty when unset. */
  public String serviceVersion() {
    return serviceVersion;
  }

  /** {@code chassis.grpc.*}. */
  public Grpc grpc() {
    return grpc;
  }

  /** {@code chassis.admin.*}. */
  public Admin admin() {
    return admin;
  }

  /** {@code chassis.grpc-web.*}. */
  public GrpcWeb grpcWeb() {
    return grpcWeb;
  }

  /** {@code chassis.health.*}. */
  public Health health() {
    return health;
  }

  /** {@code chassis.shutdown.*}. */
  public Shutdown shutdown() {
    return shutdown;
  }

  /** {@code chassis.tls.*}. */
  public Tls tls() {
    return tls;
  }

  /** {@code chassis.limits.*}. */
  public Limits limits() {
    return limits;
  }

  /** {@code chassis.logging.access-log.*}. */
  public AccessLog accessLog() {
    return accessLog;
  }

  /** {@code chassis.discovery.consul.address}, normalised to an http(s) URI, if set. */
  public Optional<URI> consulAddress() {
    return Optional.ofNullable(consul.address());
  }

  /** {@code chassis.authorization.*}. */
  public Authorization authorization() {
    return authorization;
  }

  /** {@code chassis.discovery.consul.*}. */
  public ConsulSettings consul() {
    return consul;
  }

  @Override
  public String toString() {
    return "ChassisConfig{service=" + serviceName + ", grpc=" + grpc + ", admin=" + admin + "}";
  }
}
