package dev.chassis.security;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * An authorization policy in the JSON format of gRPC's SDK authorization (gRFC A43):
 *
 * <pre>{@code
 * {
 *   "name": "user-service",
 *   "deny_rules": [
 *     { "name": "no-deletes-from-batch",
 *       "source": { "principals": ["spiffe://example.org/ns/batch/*"] },
 *       "request": { "paths": ["/user.v1.UserService/DeleteUser"] } }
 *   ],
 *   "allow_rules": [
 *     { "name": "readers", "request": { "paths": ["/user.v1.UserService/Get*", "/user.v1.UserService/ListUsers"] } },
 *     { "name": "admin", "source": { "principals": ["spiffe://example.org/ns/admin/sa/console"] } }
 *   ]
 * }
 * }</pre>
 *
 * <p>A rule matches when each of its parts that is present matches: {@code source.principals} (any
 * of them matches one of the peer's names, see {@link PeerIdentity#names()}; an empty list matches
 * any authenticated peer, and a rule with principals never matches an unauthenticated one), {@code
 * request.paths} (any matches {@code /package.Service/Method}; an empty list matches every path)
 * and {@code request.headers} (each listed header, its values joined with commas, matches one of
 * the rule's values). Strings match exactly, or by prefix ({@code "abc*"}), suffix ({@code "*abc"})
 * or any non-empty value ({@code "*"}). Deny rules are evaluated first: a matching deny rule
 * denies, then a matching allow rule allows, and everything else is denied. Immutable.
 */
public final class AuthorizationPolicy {
  // Strict: a duplicated key (a second "deny_rules") must not silently replace the first.
  private static final ObjectMapper json =
      new ObjectMapper()
          .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  /** Headers A43 does not let rules match (besides pseudo-headers, grpc-* and -bin ones). */
  private static final Set<String> UNMATCHABLE_HEADERS =
      Set.of(
          "host",
          "connection",
          "keep-alive",
          "proxy-authenticate",
          "proxy-authorization",
          "te",
          "trailer",
          "transfer-encoding",
          "upgrade");

  private static final Set<String> POLICY_KEYS = Set.of("name", "deny_rules", "allow_rules");
  private static final Set<String> RULE_KEYS = Set.of("name", "source", "request");

  /** The outcome for one call. */
  public enum Decision {
    /** A deny rule matched, or no allow rule did. */
    DENY,
    /** An allow rule matched and no deny rule did. */
    ALLOW
  }

  private final String name;
  private final List<Rule> denyRules;
  private final List<Rule> allowRules;

  private AuthorizationPolicy(String name, List<Rule> denyRules, List<Rule> allowRules) {
    this.name = name;
    this.denyRules = denyRules;
    this.allowRules = allowRules;
  }

  /**
   * Parses a policy.
   *
   * @throws IllegalArgumentException naming what is wrong, for malformed JSON or a policy that does
   *     not follow the format (unknown keys are errors, not ignored)
   */
  public static AuthorizationPolicy parse(String policyJson) {
    JsonNode root;
    try {
      root = json.readTree(policyJson);
    } catch (IOException e) {
      throw new IllegalArgumentException("authorization policy: not JSON: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("authorization policy: expected a JSON object");
    }
    requireKnownKeys(root, POLICY_KEYS, "policy");
    String name = text(root, "name", "policy");
    if (!root.has("allow_rules")) {
      throw new IllegalArgumentException("authorization policy: \"allow_rules\" is required");
    }
    return new AuthorizationPolicy(
        name,
        rules(root.get("deny_rules"), "deny_rules"),
        rules(root.get("allow_rules"), "allow_rules"));
  }

  /** The policy's name. */
  public String name() {
    return name;
  }

  /**
   * The decision for a call, and the rule that made it.
   *
   * @param decision allow or deny
   * @param rule {@code deny_rules/<name>} or {@code allow_rules/<name>}; null when no rule matched
   *     (denied by default)
   */
  public record Verdict(Decision decision, @Nullable String rule) {
    /** Whether a deny rule, rather than the default, denied the call. */
    public boolean deniedByRule() {
      return rule != null && decision == Decision.DENY;
    }
  }

  /**
   * The decision for a call to {@code path} ({@code /package.Service/Method}) from {@code peer}
   * (null: unauthenticated) with request {@code headers} (lower-case names).
   */
  public Decision evaluate(
      String path, @Nullable PeerIdentity peer, Function<String, List<String>> headers) {
    return decide(path, peer, headers).decision();
  }

  /** Like {@link #evaluate}, with the rule that decided. */
  public Verdict decide(
      String path, @Nullable PeerIdentity peer, Function<String, List<String>> headers) {
    for (Rule rule : denyRules) {
      if (rule.matches(path, peer, headers)) {
        return new Verdict(Decision.DENY, "deny_rules/" + rule.name);
      }
    }
    for (Rule rule : allowRules) {
      if (rule.matches(path, peer, headers)) {
        return new Verdict(Decision.ALLOW, "allow_rules/" + rule.name);
      }
    }
    return new Verdict(Decision.DENY, null);
  }

  private static List<Rule> rules(@Nullable JsonNode node, String field) {
    List<Rule> rules = new ArrayList<>();
    if (node == null) {
      return rules;
    }
    if (!node.isArray()) {
      throw new IllegalArgumentException("authorization policy: \"" + field + "\" must be a list");
    }
    for (JsonNode rule : node) {
      String where = field + "[" + rules.size() + "]";
      if (!rule.isObject()) {
        throw new IllegalArgumentException("authorization policy: " + where + " must be an object");
      }
      requireKnownKeys(rule, RULE_KEYS, where);
      String name = text(rule, "name", where);
      List<Matcher> principals = null;
      JsonNode source = rule.get("source");
      if (source != null) {
        requireKnownKeys(source, Set.of("principals"), where + ".source");
        principals = matchers(source.get("principals"), where + ".source.principals");
      }
      List<Matcher> paths = null;
      Map<String, List<Matcher>> headers = new java.util.LinkedHashMap<>();
      JsonNode request = rule.get("request");
      if (request != null) {
        requireKnownKeys(request, Set.of("paths", "headers"), where + ".request");
        paths = matchers(request.get("paths"), where + ".request.paths");
        JsonNode headerList = request.get("headers");
        if (headerList != null) {
          if (!headerList.isArray()) {
            throw new IllegalArgumentException(
                "authorization policy: " + where + ".request.headers must be a list");
          }
          for (JsonNode header : headerList) {
            requireKnownKeys(header, Set.of("key", "values"), where + ".request.headers");
            String key = text(header, "key", where + ".request.headers").toLowerCase(Locale.ROOT);
            if (key.startsWith(":")
                || key.startsWith("grpc-")
                || key.endsWith(io.grpc.Metadata.BINARY_HEADER_SUFFIX)
                || UNMATCHABLE_HEADERS.contains(key)) {
              throw new IllegalArgumentException(
                  "authorization policy: " + where + ": header \"" + key + "\" cannot be matched");
            }
            try {
              io.grpc.Metadata.Key.of(key, io.grpc.Metadata.ASCII_STRING_MARSHALLER);
            } catch (IllegalArgumentException e) {
              throw new IllegalArgumentException(
                  "authorization policy: " + where + ": \"" + key + "\" is not a header name", e);
            }
            List<Matcher> values =
                matchers(header.get("values"), where + ".request.headers.values");
            if (values == null || values.isEmpty()) {
              throw new IllegalArgumentException(
                  "authorization policy: " + where + ": header \"" + key + "\" needs values");
            }
            headers.put(key, values);
          }
        }
      }
      rules.add(new Rule(name, principals, paths, headers));
    }
    return List.copyOf(rules);
  }

  private static @Nullable List<Matcher> matchers(@Nullable JsonNode node, String where) {
    if (node == null) {
      return null;
    }
    if (!node.isArray()) {
      throw new IllegalArgumentException("authorization policy: " + where + " must be a list");
    }
    List<Matcher> matchers = new ArrayList<>();
    for (JsonNode value : node) {
      if (!value.isTextual()) {
        throw new IllegalArgumentException("authorization policy: " + where + " must hold strings");
      }
      matchers.add(Matcher.of(value.asText()));
    }
    return List.copyOf(matchers);
  }

  private static void requireKnownKeys(JsonNode node, Set<String> known, String where) {
    if (!node.isObject()) {
      throw new IllegalArgumentException("authorization policy: " + where + " must be an object");
    }
    Iterator<String> fields = node.fieldNames();
    while (fields.hasNext()) {
      String field = fields.next();
      if (!known.contains(field)) {
        throw new IllegalArgumentException(
            "authorization policy: " + where + ": unknown field \"" + field + "\"");
      }
    }
  }

  private static String text(JsonNode node, String field, String where) {
    JsonNode value = node.get(field);
    if (value == null || !value.isTextual() || value.asText().isEmpty()) {
      throw new IllegalArgumentException(
          "authorization policy: " + where + ": \"" + field + "\" must be a non-empty string");
    }
    return value.asText();
  }

  private record Rule(
      String name,
      @Nullable List<Matcher> principals,
      @Nullable List<Matcher> paths,
      Map<String, List<Matcher>> headers) {
    boolean matches(String path, @Nullable PeerIdentity peer, Function<String, List<String>> get) {
      if (principals != null) {
        // A43: principals need an authenticated peer; an empty list matches any such peer.
        if (peer == null) {
          return false;
        }
        if (!principals.isEmpty()
            && principals.stream().noneMatch(m -> peer.names().stream().anyMatch(m::matches))) {
          return false;
        }
      }
      // A43: an empty list of paths is the same as none: every path.
      if (paths != null
          && !paths.isEmpty()
          && paths.stream().noneMatch(matcher -> matcher.matches(path))) {
        return false;
      }
      for (Map.Entry<String, List<Matcher>> header : headers.entrySet()) {
        List<String> values = get.apply(header.getKey());
        if (values.isEmpty()) {
          return false;
        }
        // A43: a repeated header is matched as its values joined with commas.
        String joined = String.join(",", values);
        if (header.getValue().stream().noneMatch(matcher -> matcher.matches(joined))) {
          return false;
        }
      }
      return true;
    }
  }

  private record Matcher(String text, boolean prefix, boolean suffix) {
    static Matcher of(String pattern) {
      if (pattern.equals("*")) {
        return new Matcher("", true, false);
      }
      if (pattern.endsWith("*")) {
        return new Matcher(pattern.substring(0, pattern.length() - 1), true, false);
      }
      if (pattern.startsWith("*")) {
        return new Matcher(pattern.substring(1), false, true);
      }
      return new Matcher(pattern, false, false);
    }

    boolean matches(String value) {
      if (prefix && text.isEmpty()) {
        return !value.isEmpty(); // A43: "*" matches any value, but not an empty one
      }
      return prefix ? value.startsWith(text) : suffix ? value.endsWith(text) : value.equals(text);
    }
  }
}
