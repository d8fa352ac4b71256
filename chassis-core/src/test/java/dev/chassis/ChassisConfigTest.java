package dev.chassis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.chassis.discovery.ServiceInstance;
import dev.chassis.discovery.consul.ConsulServiceRegistry;
import dev.chassis.discovery.consul.ConsulSettings;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChassisConfigTest {
  @TempDir Path dir;

  @Test
  void load_noOverrides_usesDocumentedDefaults() throws IOException {
    ChassisConfig config = load("", Map.of(), new Properties());

    assertThat(config.grpc().port()).isEqualTo(50051);
    assertThat(config.admin().port()).isEqualTo(8081);
    assertThat(config.shutdown().grace()).isEqualTo(Duration.ofSeconds(10));
    assertThat(config.grpc().maxInboundMessageSize()).isEqualTo(4 * 1024 * 1024);
    assertThat(config.tls().enabled()).isFalse();
    assertThat(config.consulAddress()).isEmpty();
    assertThat(config.serviceName()).isNotBlank();
    assertThat(config.grpcWeb().enabled()).isFalse();
  }

  @Test
  void grpcWeb_fromTheEnvironment_takesACommaSeparatedOriginList() throws IOException {
    ChassisConfig config =
        load(
            "chassis.grpc.max-inbound-message-size = 1 MiB",
            Map.of(
                "CHASSIS_GRPC_WEB_PORT",
                "8080",
                "CHASSIS_GRPC_WEB_ALLOWED_ORIGINS",
                " https://App.Example.com/ , http://localhost:3000"),
            new Properties());

    assertThat(config.grpcWeb().port()).isEqualTo(8080);
    assertThat(config.grpcWeb().allowedOrigins())
        .containsExactly("https://app.example.com", "http://localhost:3000");
    assertThat(config.grpcWeb().maxMessageSize())
        .as("follows chassis.grpc.max-inbound-message-size")
        .isEqualTo(1024 * 1024);
  }

  @Test
  void grpcWeb_originsThatAreNotOrigins_stopStartUp() {
    assertThatThrownBy(
            () ->
                ChassisConfig.of(
                    "chassis.grpc-web.allowed-origins = [\"https://app.example.com/path\"]"))
        .isInstanceOf(ChassisConfigException.class)
        .hasMessageContaining("chassis.grpc-web.allowed-origins");
    assertThatThrownBy(
            () -> ChassisConfig.of("chassis.grpc-web.allowed-origins = [\"app.example.com\"]"))
        .isInstanceOf(ChassisConfigException.class);
    assertThat(
            ChassisConfig.of("chassis.grpc-web.allowed-origins = [\"*\"]")
                .grpcWeb()
                .allowedOrigins())
        .containsExactly("*");
  }

  @Test
  void load_applicationConf_overridesReference() throws IOException {
    ChassisConfig config =
        load("chassis { service.name = orders, grpc.port = 6000 }", Map.of(), new Properties());

    assertThat(config.serviceName()).isEqualTo("orders");
    assertThat(config.grpc().port()).isEqualTo(6000);
  }

  @Test
  void load_environment_overridesApplicationConf() throws IOException {
    ChassisConfig config =
        load(
            "chassis { service.name = orders, grpc.port = 6000, shutdown.grace = 5s }",
            Map.of(
                "CHASSIS_GRPC_PORT", "7000",
                "CHASSIS_SERVICE_NAME", "orders-canary",
                "CHASSIS_SHUTDOWN_GRACE", "30s",
                "CHASSIS_ADMIN_PORT", "-1"),
            new Properties());

    assertThat(config.grpc().port()).isEqualTo(7000);
    assertThat(config.serviceName()).isEqualTo("orders-canary");
    assertThat(config.shutdown().grace()).isEqualTo(Duration.ofSeconds(30));
    assertThat(config.admin().enabled()).isFalse();
  }

  @Test
  void load_systemProperty_overridesEnvironment() throws IOException {
    Properties props = new Properties();
    props.setProperty("chassis.grpc.port", "8000");

    ChassisConfig config =
        load("chassis.grpc.port = 6000", Map.of("CHASSIS_GRPC_PORT", "7000"), props);

    assertThat(config.grpc().port()).isEqualTo(8000);
  }

  @Test
  void load_unrelatedEnvironmentVariable_isIgnored() throws IOException {
    ChassisConfig config = load("", Map.of("GRPC_PORT", "1", "PORT", "2"), new Properties());

    assertThat(config.grpc().port()).isEqualTo(50051);
  }

  @Test
  void load_portOutOfRangeFromEnv_namesKeyValueOriginAndExpectation() {
    assertThatThrownBy(() -> load("", Map.of("CHASSIS_GRPC_PORT", "70000"), new Properties()))
        .isInstanceOf(ChassisConfigException.class)
        .hasMessageContaining("chassis.grpc.port")
        .hasMessageContaining("70000")
        .hasMessageContaining("CHASSIS_GRPC_PORT")
        .hasMessageContaining("expected: an integer in 0..65535");
  }

  @Test
  void load_nonNumericPort_namesKeyAndValue() {
    assertThatThrownBy(() -> load("", Map.of("CHASSIS_GRPC_PORT", "http"), new Properties()))
        .isInstanceOf(ChassisConfigException.class)
        .hasMessageContaining("chassis.grpc.port")
        .hasMessageContaining("http")
        .hasMessageContaining("expected");
  }

  @Test
  void load_badDurationInApplicationConf_namesKeyAndValue() {
    assertThatThrownBy(() -> load("chassis.shutdown.grace = soon", Map.of(), new Properties()))
        .isInstanceOf(ChassisConfigException.class)
        .hasMessageContaining("chassis.shutdown.grace")
        .hasMessageContaining("soon")
        .hasMessageContaining("expected: a duration > 0");
  }

  @Test
  void load_zeroGrace_isRejected() {
    assertThatThrownBy(() -> load("", Map.of("CHASSIS_SHUTDOWN_GRACE", "0s"), new Properties()))
        .isInstanceOf(ChassisConfigException.class)
        .hasMessageContaining("chassis.shutdown.grace");
  }

  @Test
  void load_invalidServiceName_isRejected() {
    assertThatThrownBy(
            () -> load("", Map.of("CHASSIS_SERVICE_NAME", "user service!"), new Properties()))
        .isInstanceOf(ChassisConfigException.class)
        .hasMessageContaining("chassis.service.name")
        .hasMessageContaining("user service!");
  }

  @Test
  void load_tlsCertWithoutKey_isRejected() {
    assertThatThrownBy(() -> load("", Map.of("CHASSIS_TLS_CERT", "/tmp/tls.crt"), new Properties()))
        .isInstanceOf(ChassisConfigException.class)
        .hasMessageContaining("chassis.tls.key")
        .hasMessageContaining("missing");
  }

  @Test
  void load_tlsFromEnvironment_enablesMutualTls() throws IOException {
    ChassisConfig config =
        load(
            "",
            Map.of(
                "CHASSIS_TLS_CERT", "/certs/tls.crt",
                "CHASSIS_TLS_KEY", "/certs/tls.key",
                "CHASSIS_TLS_CLIENT_CA", "/certs/ca.crt"),
            new Properties());

    assertThat(config.tls().enabled()).isTrue();
    assertThat(config.tls().mutual()).isTrue();
    assertThat(config.tls().cert()).isEqualTo(Path.of("/certs/tls.crt"));
  }

  @Test
  void load_consulAddressWithoutScheme_isNormalisedToHttp() throws IOException {
    ChassisConfig config = load("", Map.of("CONSUL_HTTP_ADDR", "127.0.0.1:8500"), new Properties());

    assertThat(config.consulAddress())
        .hasValueSatisfying(uri -> assertThat(uri.toString()).isEqualTo("http://127.0.0.1:8500"));
  }

  @Test
  void load_invalidConsulAddress_isRejected() {
    assertThatThrownBy(
            () -> load("", Map.of("CONSUL_HTTP_ADDR", "ftp://consul:21"), new Properties()))
        .isInstanceOf(ChassisConfigException.class)
        .hasMessageContaining("chassis.discovery.consul.address")
        .hasMessageContaining("ftp://consul:21");
  }

  @Test
  void consul_defaults_grpcCheckAndBackgroundRetries() {
    ConsulSettings consul = ChassisConfig.of("").consul();

    assertThat(consul.enabled()).isFalse();
    assertThat(consul.token()).isNull();
    assertThat(consul.registration().enabled()).isTrue();
    assertThat(consul.registration().failFast()).isFalse();
    assertThat(consul.registration().advertisePort()).isZero();
    assertThat(consul.check().mode()).isEqualTo(ConsulSettings.CheckMode.GRPC);
    assertThat(consul.check().deregisterCriticalAfter()).isEqualTo(Duration.ofMinutes(1));
    assertThat(consul.watchWait()).isEqualTo(Duration.ofSeconds(55));
  }

  @Test
  void consul_environment_tokenAndAdvertisedAddress() throws IOException {
    ChassisConfig config =
        load(
            "chassis.discovery.consul.registration { tags = [grpc], meta { zone = z1 } }\n"
                + "chassis.service.version = \"1.2.3\"",
            Map.of(
                "CONSUL_HTTP_ADDR", "http://127.0.0.1:8500",
                "CONSUL_HTTP_TOKEN", "secret-token",
                "CHASSIS_ADVERTISE_ADDRESS", "10.1.2.3",
                "CHASSIS_ADVERTISE_PORT", "31000"),
            new Properties());

    ConsulSettings consul = config.consul();
    assertThat(consul.enabled()).isTrue();
    assertThat(consul.token()).isEqualTo("secret-token");
    assertThat(consul.toString()).doesNotContain("secret-token").contains("token=<redacted>");
    assertThat(consul.registration().advertiseAddress()).isEqualTo("10.1.2.3");
    assertThat(consul.registration().advertisePort()).isEqualTo(31000);
    ServiceInstance instance = ConsulServiceRegistry.instanceFor(config, 50051);
    assertThat(instance.address()).isEqualTo("10.1.2.3");
    assertThat(instance.port()).isEqualTo(31000);
    assertThat(instance.id()).isEqualTo(config.serviceName() + "-10.1.2.3-31000");
    assertThat(instance.tags()).containsExactly("grpc");
    assertThat(instance.meta()).containsEntry("zone", "z1").containsEntry("version", "1.2.3");
  }

  @Test
  void consul_invalidValues_areRejectedNamingTheKey() {
    assertThatThrownBy(() -> ChassisConfig.of("chassis.discovery.consul.check.mode = http"))
        .isInstanceOf(ChassisConfigException.class)
        .hasMessageContaining("chassis.discovery.consul.check.mode")
        .hasMessageContaining("grpc or ttl");
    assertThatThrownBy(
            () ->
                ChassisConfig.of(
                    "chassis.discovery.consul.registration.advertise-address = \"0.0.0.0\""))
        .isInstanceOf(ChassisConfigException.class)
        .hasMessageContaining("advertise-address")
        .hasMessageContaining("not a wildcard");
    assertThatThrownBy(() -> ChassisConfig.of("chassis.discovery.consul.check.ttl = 100ms"))
        .isInstanceOf(ChassisConfigException.class)
        .hasMessageContaining("chassis.discovery.consul.check.ttl");
    assertThatThrownBy(() -> ChassisConfig.of("chassis.discovery.consul.watch-wait = 2500ms"))
        .isInstanceOf(ChassisConfigException.class)
        .hasMessageContaining("chassis.discovery.consul.watch-wait")
        .hasMessageContaining("whole seconds from 1s to 10m");
    assertThatThrownBy(() -> ChassisConfig.of("chassis.discovery.consul.watch-wait = 11m"))
        .isInstanceOf(ChassisConfigException.class)
        .hasMessageContaining("chassis.discovery.consul.watch-wait");
    assertThatThrownBy(
            () ->
                ChassisConfig.of(
                    "chassis.discovery.consul.registration { initial-backoff = 5s, max-backoff = 1s }"))
        .isInstanceOf(ChassisConfigException.class)
        .hasMessageContaining("chassis.discovery.consul.registration.max-backoff")
        .hasMessageContaining("at least initial-backoff");
  }

  @Test
  void limits_defaults_fixedConcurrencyCapAndNoRateRules() {
    ChassisConfig config = ChassisConfig.of("");

    assertThat(config.limits().maxDeadline()).isEqualTo(Duration.ofMinutes(5));
    assertThat(config.limits().rate()).isNull();
    assertThat(config.limits().concurrency())
        .isEqualTo(dev.chassis.resilience.ConcurrencyLimitSettings.fixed(1000));
  }

  @Test
  void limits_rateRulesAndAdaptiveConcurrency_parse() {
    ChassisConfig config =
        ChassisConfig.of(
            """
            chassis.limits {
              rate {
                methods { "user.v1.UserService/CreateUser" { permits = 5, period = 1s } }
                caller-metadata-key = "x-api-key"
              }
              concurrency { mode = gradient2, limit = 50, min-limit = 10, max-limit = 500 }
            }
            """);

    assertThat(config.limits().rate().limits())
        .containsEntry(
            "user.v1.UserService/CreateUser",
            new dev.chassis.resilience.RateLimitSettings.Rate(5, Duration.ofSeconds(1)));
    assertThat(config.limits().rate().callerMetadataKey()).isEqualTo("x-api-key");
    assertThat(config.limits().concurrency().mode())
        .isEqualTo(dev.chassis.resilience.ConcurrencyLimitSettings.Mode.GRADIENT2);
  }

  @Test
  void limits_badModeOrBounds_areRejectedNamingTheKey() {
    assertThatThrownBy(() -> ChassisConfig.of("chassis.limits.concurrency.mode = fast"))
        .isInstanceOf(ChassisConfigException.class)
        .hasMessageContaining("chassis.limits.concurrency.mode")
        .hasMessageContaining("FIXED, GRADIENT2 or VEGAS");
    assertThatThrownBy(
            () ->
                ChassisConfig.of(
                    "chassis.limits.concurrency { mode = VEGAS, limit = 5, min-limit = 10 }"))
        .isInstanceOf(ChassisConfigException.class)
        .hasMessageContaining("chassis.limits.concurrency.limit");
    assertThatThrownBy(
            () ->
                ChassisConfig.of(
                    "chassis.limits.rate.methods { \"a.B/C\" { permits = 0, period = 1s } }"))
        .isInstanceOf(ChassisConfigException.class)
        .hasMessageContaining("permits");
  }

  @Test
  void limits_unquotedRateKeyOrBadCallerHeader_areRejectedNamingTheKey() {
    assertThatThrownBy(
            () ->
                ChassisConfig.of(
                    "chassis.limits.rate.methods { user.v1.UserService { permits = 1, period = 1s } }"))
        .isInstanceOf(ChassisConfigException.class)
        .hasMessageContaining("quote the key");
    assertThatThrownBy(
            () ->
                ChassisConfig.of(
                    """
                    chassis.limits.rate {
                      methods { "*" { permits = 1, period = 1s } }
                      caller-metadata-key = "x-caller-bin"
                    }
                    """))
        .isInstanceOf(ChassisConfigException.class)
        .hasMessageContaining("chassis.limits.rate.caller-metadata-key");
  }

  @Test
  void of_layersTextOverDefaults() {
    ChassisConfig config = ChassisConfig.of("chassis.grpc.port = 0\nchassis.admin.port = -1");

    assertThat(config.grpc().port()).isZero();
    assertThat(config.admin().enabled()).isFalse();
    assertThat(config.health().checkInterval()).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void of_ignoresSystemProperties() {
    System.setProperty("chassis.grpc.port", "4242");
    try {
      com.typesafe.config.ConfigFactory.invalidateCaches();

      assertThat(ChassisConfig.of("").grpc().port()).isEqualTo(50051);
    } finally {
      System.clearProperty("chassis.grpc.port");
      com.typesafe.config.ConfigFactory.invalidateCaches();
    }
  }

  @Test
  void with_overridesLoadedConfig() {
    ChassisConfig config =
        ChassisConfig.of("chassis.service.name = a").with("chassis.grpc.port = 1");

    assertThat(config.serviceName()).isEqualTo("a");
    assertThat(config.grpc().port()).isEqualTo(1);
  }

  private ChassisConfig load(String applicationConf, Map<String, String> env, Properties props)
      throws IOException {
    Files.writeString(dir.resolve("application.conf"), applicationConf);
    try (URLClassLoader loader =
        new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
      return ChassisConfig.load(loader, env, props);
    }
  }
}
