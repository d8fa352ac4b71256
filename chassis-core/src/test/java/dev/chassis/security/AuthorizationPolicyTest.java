package dev.chassis.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** gRFC A43 policy parsing and evaluation. */
class AuthorizationPolicyTest {
  private static final PeerIdentity ORDERS =
      new PeerIdentity(
          "spiffe://example.org/ns/shop/sa/orders",
          List.of("spiffe://example.org/ns/shop/sa/orders", "CN=orders", "orders"));
  private static final Function<String, List<String>> NO_HEADERS = name -> List.of();

  private static final AuthorizationPolicy POLICY =
      AuthorizationPolicy.parse(
          """
          {
            "name": "users",
            "deny_rules": [
              { "name": "no-deletes", "request": { "paths": ["*/DeleteUser"] } }
            ],
            "allow_rules": [
              { "name": "shop", "source": { "principals": ["spiffe://example.org/ns/shop/*"] },
                "request": { "paths": ["/user.v1.UserService/*"] } },
              { "name": "anyone-reads", "request": { "paths": ["/user.v1.UserService/GetUser"],
                "headers": [{ "key": "x-tenant", "values": ["acme", "*-test"] }] } }
            ]
          }
          """);

  @Test
  void principalsPrefixAndPathPrefix_allow() {
    assertThat(POLICY.evaluate("/user.v1.UserService/CreateUser", ORDERS, NO_HEADERS))
        .isEqualTo(AuthorizationPolicy.Decision.ALLOW);
  }

  @Test
  void denyRules_winOverAllowRules() {
    assertThat(POLICY.evaluate("/user.v1.UserService/DeleteUser", ORDERS, NO_HEADERS))
        .isEqualTo(AuthorizationPolicy.Decision.DENY);
  }

  @Test
  void noMatchingRule_isDenied_andPrincipalsNeverMatchAnUnauthenticatedPeer() {
    assertThat(POLICY.evaluate("/other.Service/Call", ORDERS, NO_HEADERS))
        .isEqualTo(AuthorizationPolicy.Decision.DENY);
    assertThat(POLICY.evaluate("/user.v1.UserService/CreateUser", null, NO_HEADERS))
        .isEqualTo(AuthorizationPolicy.Decision.DENY);
  }

  @Test
  void headers_matchExactOrSuffix_forAnyPeer() {
    Map<String, List<String>> acme = Map.of("x-tenant", List.of("acme"));
    Map<String, List<String>> test = Map.of("x-tenant", List.of("shop-test"));
    Map<String, List<String>> other = Map.of("x-tenant", List.of("globex"));

    assertThat(POLICY.evaluate("/user.v1.UserService/GetUser", null, name -> get(acme, name)))
        .isEqualTo(AuthorizationPolicy.Decision.ALLOW);
    assertThat(POLICY.evaluate("/user.v1.UserService/GetUser", null, name -> get(test, name)))
        .isEqualTo(AuthorizationPolicy.Decision.ALLOW);
    assertThat(POLICY.evaluate("/user.v1.UserService/GetUser", null, name -> get(other, name)))
        .isEqualTo(AuthorizationPolicy.Decision.DENY);
  }

  @Test
  void invalidPolicies_areRejectedNamingTheProblem() {
    assertThatThrownBy(() -> AuthorizationPolicy.parse("{\"name\": \"p\"}"))
        .hasMessageContaining("\"allow_rules\" is required");
    assertThatThrownBy(
            () -> AuthorizationPolicy.parse("{\"name\":\"p\",\"allow_rules\":[],\"deny\":[]}"))
        .hasMessageContaining("unknown field \"deny\"");
    assertThatThrownBy(
            () ->
                AuthorizationPolicy.parse(
                    "{\"name\":\"p\",\"allow_rules\":[{\"name\":\"r\",\"request\":"
                        + "{\"headers\":[{\"key\":\":path\",\"values\":[\"x\"]}]}}]}"))
        .hasMessageContaining("header \":path\" cannot be matched");
    assertThatThrownBy(() -> AuthorizationPolicy.parse("not json"))
        .hasMessageContaining("not JSON");
  }

  @Test
  void a43EdgeCases_emptyListsMatchAllAndTheStarNeedsAValue() {
    AuthorizationPolicy denyAll =
        AuthorizationPolicy.parse(
            """
            { "name": "p",
              "deny_rules": [{ "name": "all-authenticated", "source": { "principals": [] },
                               "request": { "paths": [] } }],
              "allow_rules": [{ "name": "all" }] }
            """);
    assertThat(denyAll.evaluate("/a.B/C", ORDERS, NO_HEADERS))
        .isEqualTo(AuthorizationPolicy.Decision.DENY);
    assertThat(denyAll.evaluate("/a.B/C", null, NO_HEADERS))
        .isEqualTo(AuthorizationPolicy.Decision.ALLOW);

    AuthorizationPolicy anyTenant =
        AuthorizationPolicy.parse(
            """
            { "name": "p", "allow_rules": [{ "name": "tenant",
              "request": { "headers": [{ "key": "x-tenant", "values": ["*"] }] } }] }
            """);
    assertThat(anyTenant.evaluate("/a.B/C", null, name -> List.of("")))
        .isEqualTo(AuthorizationPolicy.Decision.DENY);
    assertThat(anyTenant.evaluate("/a.B/C", null, name -> List.of("a", "b")))
        .isEqualTo(AuthorizationPolicy.Decision.ALLOW);
  }

  @Test
  void repeatedHeaders_areMatchedJoinedWithCommas() {
    AuthorizationPolicy policy =
        AuthorizationPolicy.parse(
            """
            { "name": "p", "allow_rules": [{ "name": "both",
              "request": { "headers": [{ "key": "x-role", "values": ["reader,writer"] }] } }] }
            """);

    assertThat(policy.evaluate("/a.B/C", null, name -> List.of("reader", "writer")))
        .isEqualTo(AuthorizationPolicy.Decision.ALLOW);
    assertThat(policy.evaluate("/a.B/C", null, name -> List.of("reader")))
        .isEqualTo(AuthorizationPolicy.Decision.DENY);
  }

  @Test
  void policiesThatWouldSilentlyWidenAreRejected() {
    assertThatThrownBy(
            () ->
                AuthorizationPolicy.parse(
                    "{\"name\":\"p\",\"deny_rules\":[{\"name\":\"d\"}],"
                        + "\"allow_rules\":[],\"deny_rules\":[]}"))
        .hasMessageContaining("Duplicate field");
    assertThatThrownBy(
            () ->
                AuthorizationPolicy.parse(
                    "{\"name\":\"p\",\"allow_rules\":[{\"name\":\"r\",\"request\":"
                        + "{\"headers\":\"x-admin\"}}]}"))
        .hasMessageContaining("headers must be a list");
    assertThatThrownBy(
            () ->
                AuthorizationPolicy.parse(
                    "{\"name\":\"p\",\"allow_rules\":[{\"name\":\"r\",\"request\":"
                        + "{\"headers\":[{\"key\":\"x-token-bin\",\"values\":[\"a\"]}]}}]}"))
        .hasMessageContaining("cannot be matched");
    assertThatThrownBy(
            () ->
                AuthorizationPolicy.parse(
                    "{\"name\":\"p\",\"allow_rules\":[{\"name\":\"r\",\"request\":"
                        + "{\"headers\":[{\"key\":\"x-a\"}]}}]}"))
        .hasMessageContaining("needs values");
  }

  private static List<String> get(Map<String, List<String>> headers, String name) {
    return headers.getOrDefault(name, List.of());
  }
}
