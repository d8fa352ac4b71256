package dev.chassis.testing.consul;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Registration, validation and deregistration, through raw HTTP as Consul's docs define them. */
class ConsulDoubleRegistrationTest {

  /** kiwiproject consul-client 1.12.1's exact bytes for one gRPC and one TTL check. */
  static final String KIWI_GREETER =
      "{\"Name\":\"greeter\",\"Id\":\"greeter-1\",\"Address\":\"127.0.0.1\",\"Port\":50051,"
          + "\"Check\":null,\"Checks\":[{\"CheckID\":null,\"Name\":null,\"Args\":null,"
          + "\"Interval\":\"10s\",\"TTL\":null,\"HTTP\":null,\"TCP\":null,"
          + "\"GRPC\":\"127.0.0.1:50051/greeter\",\"GRPCUseTLS\":false,\"Timeout\":\"1s\","
          + "\"Notes\":null,\"DeregisterCriticalServiceAfter\":\"1m\",\"TLSSkipVerify\":null,"
          + "\"Status\":null,\"SuccessBeforePassing\":null,\"FailuresBeforeCritical\":null},"
          + "{\"CheckID\":\"greeter-1-ttl\",\"Name\":\"ttl\",\"Args\":null,\"Interval\":null,"
          + "\"TTL\":\"15s\",\"HTTP\":null,\"TCP\":null,\"GRPC\":null,\"GRPCUseTLS\":null,"
          + "\"Timeout\":null,\"Notes\":null,\"DeregisterCriticalServiceAfter\":null,"
          + "\"TLSSkipVerify\":null,\"Status\":null,\"SuccessBeforePassing\":null,"
          + "\"FailuresBeforeCritical\":null}],\"Tags\":[\"grpc\"],\"Meta\":{\"version\":\"1\"},"
          + "\"EnableTagOverride\":null,\"Weights\":null}";

  /** kiwi's minimal registration: name and id only. */
  static final String KIWI_MINIMAL =
      "{\"Name\":\"greeter\",\"Id\":\"svc-3\",\"Address\":null,\"Port\":null,\"Check\":null,"
          + "\"Checks\":[],\"Tags\":[],\"Meta\":{},\"EnableTagOverride\":null,\"Weights\":null}";

  private ConsulDouble consul;
  private RawConsul http;

  @BeforeEach
  void start() {
    consul = ConsulDouble.newBuilder().grpcChecks(false).start();
    http = new RawConsul(consul.address());
  }

  @AfterEach
  void stop() {
    consul.close();
  }

  @Test
  void register_kiwiPayload_isAcceptedWithConsulDefaults() {
    RawConsul.Reply reply = http.put("/v1/agent/service/register", KIWI_GREETER);

    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.body()).isEmpty();
    ConsulDouble.Instance instance = consul.instance("greeter-1").orElseThrow();
    assertThat(instance.service()).isEqualTo("greeter");
    assertThat(instance.address()).isEqualTo("127.0.0.1");
    assertThat(instance.port()).isEqualTo(50051);
    assertThat(instance.tags()).containsExactly("grpc");
    assertThat(instance.meta()).containsExactly(Map.entry("version", "1"));
    assertThat(instance.checks())
        .extracting(ConsulDouble.Check::checkId)
        .containsExactly("greeter-1-ttl", "service:greeter-1:1");
    ConsulDouble.Check grpc = consul.check("service:greeter-1:1").orElseThrow();
    assertThat(grpc.type()).isEqualTo("grpc");
    assertThat(grpc.name()).isEqualTo("Service 'greeter' check");
    assertThat(grpc.status()).isEqualTo("critical");
    assertThat(grpc.grpc()).isEqualTo("127.0.0.1:50051/greeter");
    assertThat(grpc.interval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(grpc.timeout()).isEqualTo(Duration.ofSeconds(1));
    assertThat(grpc.deregisterCriticalServiceAfter()).isEqualTo(Duration.ofMinutes(1));
    ConsulDouble.Check ttl = consul.check("greeter-1-ttl").orElseThrow();
    assertThat(ttl.type()).isEqualTo("ttl");
    assertThat(ttl.ttl()).isEqualTo(Duration.ofSeconds(15));
    assertThat(ttl.status()).isEqualTo("critical");
  }

  @Test
  void register_kiwiMinimalPayload_isShownWithConsulsEmptyValues() {
    http.put("/v1/agent/service/register", KIWI_MINIMAL);

    JsonNode entry = http.get("/v1/health/service/greeter").json().get(0);
    JsonNode service = entry.get("Service");
    assertThat(service.get("ID").asText()).isEqualTo("svc-3");
    assertThat(service.get("Address").isTextual()).isTrue();
    assertThat(service.get("Address").asText()).isEmpty();
    assertThat(service.get("Port").asInt()).isZero();
    assertThat(service.get("Tags").isArray()).isTrue();
    assertThat(service.get("Tags")).isEmpty();
    assertThat(service.get("Meta").isNull()).isTrue();
    assertThat(service.get("Weights").get("Passing").asInt()).isEqualTo(1);
    assertThat(service.get("Weights").get("Warning").asInt()).isEqualTo(1);
    assertThat(entry.get("Node").get("TaggedAddresses").get("wan").asText()).isEqualTo("127.0.0.1");
    assertThat(entry.get("Checks")).hasSize(1);
    assertThat(entry.get("Checks").get(0).get("CheckID").asText()).isEqualTo("serfHealth");
    JsonNode agentView = http.get("/v1/agent/services").json().get("svc-3");
    assertThat(agentView.get("Meta").isObject()).isTrue();
    assertThat(agentView.get("Datacenter").asText()).isEqualTo("dc1");
  }

  @Test
  void register_keysCaseInsensitiveSnakeAliasesAndNanosecondDurations() {
    String body =
        "{\"name\":\"api\",\"ID\":\"api-1\",\"PORT\":8080,\"enable_tag_override\":true,"
            + "\"check\":{\"ttl\":30000000000,\"deregister_critical_service_after\":\"90s\","
            + "\"checkid\":\"api-ttl\",\"status\":\"passing\"}}";

    RawConsul.Reply reply = http.put("/v1/agent/service/register", body);

    assertThat(reply.status()).isEqualTo(200);
    ConsulDouble.Check check = consul.check("api-ttl").orElseThrow();
    assertThat(check.ttl()).isEqualTo(Duration.ofSeconds(30));
    assertThat(check.deregisterCriticalServiceAfter()).isEqualTo(Duration.ofSeconds(90));
    assertThat(check.status()).isEqualTo("passing");
    assertThat(
            http.get("/v1/agent/services").json().get("api-1").get("EnableTagOverride").asBoolean())
        .isTrue();
  }

  @Test
  void register_ipv4Address_getsLanAndWanTaggedAddresses() {
    http.put("/v1/agent/service/register", "{\"Name\":\"a\",\"Address\":\"10.0.0.7\",\"Port\":1}");

    JsonNode tagged = http.get("/v1/agent/services").json().get("a").get("TaggedAddresses");
    assertThat(tagged.get("lan_ipv4").get("Address").asText()).isEqualTo("10.0.0.7");
    assertThat(tagged.get("wan_ipv4").get("Port").asInt()).isEqualTo(1);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "empty body | `` | 400 | Request decode failed: EOF",
        "malformed JSON | {\"Name\": x} | 400 | Request decode failed: invalid character 'x' looking for beginning of value",
        "truncated JSON | {\"Name\": \"a\" | 400 | Request decode failed: unexpected EOF",
        "port as text | {\"Name\":\"a\",\"Port\":\"80\"} | 400 | Request decode failed: json: cannot unmarshal string into Go struct field ServiceDefinition.Port of type int",
        "port as fraction | {\"Name\":\"a\",\"Port\":80.5} | 400 | Request decode failed: json: cannot unmarshal number 80.5 into Go struct field ServiceDefinition.Port of type int",
        "tags not an array | {\"Name\":\"a\",\"Tags\":\"x\"} | 400 | Request decode failed: json: cannot unmarshal string into Go struct field ServiceDefinition.Tags of type []string",
        "tag not a string | {\"Name\":\"a\",\"Tags\":[1]} | 400 | Request decode failed: json: cannot unmarshal number into Go struct field ServiceDefinition.Tags of type string",
        "meta value not a string | {\"Name\":\"a\",\"Meta\":{\"k\":1}} | 400 | Request decode failed: json: cannot unmarshal number into Go struct field ServiceDefinition.Meta of type string",
        "bad duration | {\"Name\":\"a\",\"Check\":{\"TTL\":\"10x\"}} | 400 | Request decode failed: time: unknown unit \"x\" in duration \"10x\"",
        "duration without unit | {\"Name\":\"a\",\"Check\":{\"TTL\":\"10\"}} | 400 | Request decode failed: time: missing unit in duration \"10\"",
        "missing name | {\"ID\":\"a\"} | 400 | Missing service name",
        "any IPv4 address | {\"Name\":\"a\",\"Address\":\"0.0.0.0\"} | 400 | Invalid service address",
        "any IPv6 address | {\"Name\":\"a\",\"Address\":\"::\"} | 400 | Invalid service address",
        "zero passing weight | {\"Name\":\"a\",\"Weights\":{\"Passing\":0,\"Warning\":1}} | 400 | Invalid Weights: Passing must be greater than 0",
        "reserved meta key | {\"Name\":\"a\",\"Meta\":{\"consul-x\":\"v\"}} | 400 | Invalid Service Meta: Couldn't load metadata pair ('consul-x', 'v'): Key prefix 'consul-' is reserved for internal use",
        "TTL and interval | {\"Name\":\"a\",\"Check\":{\"TTL\":\"10s\",\"Interval\":\"10s\"}} | 400 | Invalid check: Interval and TTL cannot both be specified",
        "gRPC without interval | {\"Name\":\"a\",\"Checks\":[{\"GRPC\":\"127.0.0.1:1\"}]} | 400 | Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks",
        "check without kind | {\"Name\":\"a\",\"Check\":{\"Name\":\"x\"}} | 400 | Invalid check: TTL must be > 0 for TTL checks",
        "bad check status | {\"Name\":\"a\",\"Check\":{\"TTL\":\"10s\",\"Status\":\"ok\"}} | 400 | Status for checks must 'passing', 'warning', 'critical'",
        "script check | {\"Name\":\"a\",\"Check\":{\"Args\":[\"true\"],\"Interval\":\"10s\"}} | 500 | Scripts are disabled on this agent from remote calls; to enable, configure 'enable_script_checks' to true",
      })
  void register_invalidBody_returnsConsulsError(
      String description, String body, int status, String message) {
    RawConsul.Reply reply = http.put("/v1/agent/service/register", body == null ? "" : body);

    assertThat(reply.status()).as(description).isEqualTo(status);
    assertThat(reply.body()).as(description).isEqualTo(message);
    assertThat(reply.headers().firstValue("Content-Type")).hasValue("text/plain; charset=utf-8");
    assertThat(consul.instances("a")).isEmpty();
  }

  @Test
  void register_unknownKey_strictRejectsItLikeConsul() {
    String typo =
        "{\"Name\":\"a\",\"Check\":{\"TTL\":\"10s\",\"DeregisterCriticalServiceAfterr\":\"1m\"}}";

    RawConsul.Reply reply = http.put("/v1/agent/service/register", typo);

    assertThat(reply.status()).isEqualTo(400);
    assertThat(reply.body())
        .isEqualTo(
            "Request decode failed: json: unknown field \"DeregisterCriticalServiceAfterr\"");
    assertThat(http.put("/v1/agent/service/register", "{\"Name\":\"a\",\"Colour\":\"red\"}").body())
        .isEqualTo("Request decode failed: json: unknown field \"Colour\"");
  }

  @Test
  void register_unknownKey_lenientIgnoresIt() {
    try (ConsulDouble lenient = ConsulDouble.newBuilder().strictRegistration(false).start()) {
      RawConsul lenientHttp = new RawConsul(lenient.address());

      RawConsul.Reply reply =
          lenientHttp.put(
              "/v1/agent/service/register",
              "{\"Name\":\"a\",\"Colour\":\"red\",\"Check\":{\"TTL\":\"10s\",\"Typo\":1}}");

      assertThat(reply.status()).isEqualTo(200);
      assertThat(lenient.instances("a")).hasSize(1);
    }
  }

  @Test
  void register_documentedFieldsOutsideKiwisPayload_areAccepted() {
    String body =
        "{\"Name\":\"a\",\"Kind\":\"\",\"TaggedAddresses\":{\"lan\":{\"Address\":\"10.0.0.1\","
            + "\"Port\":1}},\"SocketPath\":\"\",\"Token\":\"t\",\"Namespace\":\"\","
            + "\"Connect\":{},\"Checks\":[{\"Name\":\"h\",\"HTTP\":\"http://127.0.0.1:1/\","
            + "\"Method\":\"GET\",\"Header\":{\"X\":[\"y\"]},\"Body\":\"\",\"Interval\":\"1h\","
            + "\"TLSServerName\":\"x\",\"TLSSkipVerify\":true,\"OutputMaxSize\":100,"
            + "\"SuccessBeforePassing\":2,\"FailuresBeforeWarning\":1,"
            + "\"FailuresBeforeCritical\":2,\"Notes\":\"n\",\"ServiceID\":\"a\"},"
            + "{\"Name\":\"t\",\"TCP\":\"127.0.0.1:1\",\"Interval\":\"1h\",\"Timeout\":\"1s\"}]}";

    RawConsul.Reply reply = http.put("/v1/agent/service/register", body);

    assertThat(reply.status()).as(reply.body()).isEqualTo(200);
    assertThat(consul.instance("a").orElseThrow().checks())
        .extracting(ConsulDouble.Check::type)
        .containsExactly("http", "tcp");
  }

  @Test
  void register_defaultCheckIds_followConsul() {
    http.put("/v1/agent/service/register", "{\"Name\":\"one\",\"Check\":{\"TTL\":\"10s\"}}");
    http.put(
        "/v1/agent/service/register",
        "{\"Name\":\"two\",\"Check\":{\"TTL\":\"10s\"},"
            + "\"Checks\":[{\"TTL\":\"10s\"},{\"TTL\":\"10s\",\"CheckID\":\"own\"}]}");

    assertThat(consul.instance("one").orElseThrow().checks())
        .extracting(ConsulDouble.Check::checkId, ConsulDouble.Check::name)
        .containsExactly(tuple("service:one", "Service 'one' check"));
    assertThat(consul.instance("two").orElseThrow().checks())
        .extracting(ConsulDouble.Check::checkId)
        .containsExactly("own", "service:two:1", "service:two:2");
  }

  @Test
  void reRegister_keepsStatusesAndUnlistedChecks_unlessReplaceExistingChecks() {
    String two =
        "{\"Name\":\"a\",\"Checks\":[{\"CheckID\":\"c1\",\"TTL\":\"1m\"},"
            + "{\"CheckID\":\"c2\",\"TTL\":\"1m\"}]}";
    String onlyFirst = "{\"Name\":\"a\",\"Checks\":[{\"CheckID\":\"c1\",\"TTL\":\"1m\"}]}";
    http.put("/v1/agent/service/register", two);
    http.put("/v1/agent/check/pass/c1?note=fine", "");

    http.put("/v1/agent/service/register", onlyFirst);

    assertThat(consul.check("c1").orElseThrow().status()).isEqualTo("passing");
    assertThat(consul.check("c1").orElseThrow().output()).isEqualTo("fine");
    assertThat(consul.check("c2")).isPresent();

    http.put("/v1/agent/service/register?replace-existing-checks", onlyFirst);

    assertThat(consul.check("c2")).isEmpty();
    assertThat(consul.check("c1").orElseThrow().status()).isEqualTo("passing");
  }

  @Test
  void reRegister_identical_doesNotMoveIndexes_changed_bumpsModifyIndexOnly() {
    String body = "{\"Name\":\"a\",\"Port\":1,\"Check\":{\"TTL\":\"1m\"}}";
    http.put("/v1/agent/service/register", body);
    JsonNode first = http.get("/v1/health/service/a").json().get(0).get("Service");
    long index = consul.index();

    http.put("/v1/agent/service/register", body);

    assertThat(consul.index()).isEqualTo(index);

    http.put(
        "/v1/agent/service/register", "{\"Name\":\"a\",\"Port\":2,\"Check\":{\"TTL\":\"1m\"}}");

    JsonNode changed = http.get("/v1/health/service/a").json().get(0).get("Service");
    assertThat(consul.index()).isGreaterThan(index);
    assertThat(changed.get("CreateIndex").asLong()).isEqualTo(first.get("CreateIndex").asLong());
    assertThat(changed.get("ModifyIndex").asLong()).isEqualTo(consul.index());
  }

  @Test
  void deregister_removesServiceAndChecks_unknownIdIs404() {
    http.put("/v1/agent/service/register", "{\"Name\":\"a\",\"Check\":{\"TTL\":\"1m\"}}");

    RawConsul.Reply ok = http.put("/v1/agent/service/deregister/a", "");
    RawConsul.Reply unknown = http.put("/v1/agent/service/deregister/a", "");

    assertThat(ok.status()).isEqualTo(200);
    assertThat(consul.instance("a")).isEmpty();
    assertThat(consul.check("service:a")).isEmpty();
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.body())
        .isEqualTo(
            "Unknown service ID \"a\". Ensure that the service ID is passed, not the service name.");
  }

  @Test
  void routing_usesTheDecodedPath() {
    http.put(
        "/v1/agent/service/register", "{\"Name\":\"my svc/with:odd\",\"ID\":\"id/with space\"}");

    assertThat(http.get("/v1/health/service/my%20svc%2Fwith:odd").json()).hasSize(1);
    assertThat(http.put("/v1/agent/service/deregister/id%2Fwith%20space", "").status())
        .isEqualTo(200);
    assertThat(consul.requests())
        .extracting(ConsulDouble.RecordedRequest::path)
        .contains("/v1/agent/service/deregister/id/with space");
  }

  @Test
  void wrongMethod_is405WithAllowHeader() {
    RawConsul.Reply reply = http.get("/v1/agent/service/register");

    assertThat(reply.status()).isEqualTo(405);
    assertThat(reply.body()).isEqualTo("method GET not allowed");
    assertThat(reply.headers().allValues("Allow")).containsExactly("OPTIONS", "PUT");
    assertThat(http.put("/v1/health/service/a", "").status()).isEqualTo(405);
  }

  @Test
  void agentEndpoints_haveConsulsShapes() {
    http.put("/v1/agent/service/register", KIWI_GREETER);

    assertThat(http.get("/v1/status/leader").body()).isEqualTo("\"127.0.0.1:8300\"");
    assertThat(http.get("/v1/status/peers").json().get(0).asText()).isEqualTo("127.0.0.1:8300");
    JsonNode self = http.get("/v1/agent/self").json();
    assertThat(self.get("Config").get("NodeName").asText()).isEqualTo("consul-double");
    assertThat(self.get("Member").get("Addr").asText()).isEqualTo("127.0.0.1");
    JsonNode checks = http.get("/v1/agent/checks").json();
    assertThat(checks.get("greeter-1-ttl").get("ServiceTags").get(0).asText()).isEqualTo("grpc");
    assertThat(checks.get("service:greeter-1:1").get("Interval").asText()).isEqualTo("10s");
    assertThat(checks.get("greeter-1-ttl").get("Interval").asText()).isEmpty();
    RawConsul.Reply one = http.get("/v1/agent/service/greeter-1");
    assertThat(one.json().get("Service").asText()).isEqualTo("greeter");
    assertThat(one.headers().firstValue("X-Consul-ContentHash"))
        .hasValue(one.json().get("ContentHash").asText());
    RawConsul.Reply missing = http.get("/v1/agent/service/nope");
    assertThat(missing.status()).isEqualTo(404);
    assertThat(missing.body()).isEqualTo("unknown service ID: nope");
    assertThat(http.get("/v1/kv/x").status()).isEqualTo(404);
  }

  @Test
  void maintenance_takesInstanceOutOfPassing() {
    http.put(
        "/v1/agent/service/register",
        "{\"Name\":\"a\",\"Check\":{\"TTL\":\"1m\",\"Status\":\"passing\"}}");

    RawConsul.Reply enable =
        http.put("/v1/agent/service/maintenance/a?enable=true&reason=deploying", "");

    assertThat(enable.status()).isEqualTo(200);
    assertThat(http.get("/v1/health/service/a?passing").json()).isEmpty();
    ConsulDouble.Check check = consul.check("_service_maintenance:a").orElseThrow();
    assertThat(check.notes()).isEqualTo("deploying");
    assertThat(check.type()).isEqualTo("maintenance");

    http.put("/v1/agent/service/maintenance/a?enable=false", "");

    assertThat(http.get("/v1/health/service/a?passing").json()).hasSize(1);
    assertThat(http.put("/v1/agent/service/maintenance/a", "").body())
        .isEqualTo("Missing value for enable");
    assertThat(http.put("/v1/agent/service/maintenance/a?enable=maybe", "").body())
        .isEqualTo("Invalid value for enable: \"maybe\"");
    assertThat(http.put("/v1/agent/service/maintenance/b?enable=true", "").status()).isEqualTo(404);
  }

  @Test
  void failNext_answersTheNextMatchingRequestOnce() {
    consul.failNext("/v1/agent/service/", 500, "boom");

    RawConsul.Reply failed = http.put("/v1/agent/service/register", "{\"Name\":\"a\"}");
    RawConsul.Reply next = http.put("/v1/agent/service/register", "{\"Name\":\"a\"}");

    assertThat(failed.status()).isEqualTo(500);
    assertThat(failed.body()).isEqualTo("boom");
    assertThat(next.status()).isEqualTo(200);
    assertThat(consul.requests()).hasSize(2);
  }

  @Test
  void journal_recordsRawAndDecodedPathQueryBodyAndToken() {
    http.send(
        "PUT", "/v1/agent/check/pass/service:a?note=all%20good%20%26%20fine&token=secret", "");

    ConsulDouble.RecordedRequest request = consul.requests().get(0);
    assertThat(request.method()).isEqualTo("PUT");
    assertThat(request.path()).isEqualTo("/v1/agent/check/pass/service:a");
    assertThat(request.rawQuery()).isEqualTo("note=all%20good%20%26%20fine&token=secret");
    assertThat(request.token()).isEqualTo("secret");
    assertThat(request.body()).isEmpty();
    assertThat(request.at()).isNotNull();
  }
}
