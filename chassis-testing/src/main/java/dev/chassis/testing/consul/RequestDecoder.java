package dev.chassis.testing.consul;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Decodes request bodies the way Consul's Go decoder does: keys match field names
 * case-insensitively ({@code Id} is {@code ID}), JSON {@code null} leaves a scalar unset, the
 * snake_case aliases Consul declares are accepted, durations are Go strings or numbers of
 * nanoseconds, and a wrong JSON type is an error worded like Go's {@code encoding/json}.
 *
 * <p>Unknown keys are rejected in strict mode with Go's {@code json: unknown field "<Key>"}, which
 * is what Consul 1.7 and later do (its decoder calls {@code DisallowUnknownFields}); lenient mode
 * ignores them, as Consul before 1.7 did.
 */
final class RequestDecoder {

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Pattern UNEXPECTED_CHAR =
      Pattern.compile("Unexpected character \\('(.+?)' \\(code \\d+\\)\\)");
  private static final Pattern UNRECOGNIZED_TOKEN = Pattern.compile("Unrecognized token '(.)");

  private final boolean strict;

  RequestDecoder(boolean strict) {
    this.strict = strict;
  }

  /**
   * A body Consul could not decode; the message is what follows {@code Request decode failed: }.
   */
  static final class DecodeException extends Exception {
    private static final long serialVersionUID = 1L;

    DecodeException(String message) {
      super(message, null, false, false);
    }
  }

  /** The body of {@code PUT /v1/agent/check/update/:check_id}. */
  record CheckUpdate(String status, String output) {}

  ServiceDefinition service(byte[] body) throws DecodeException {
    JsonNode root = parse(body);
    if (root.isNull()) {
      root = MAPPER.createObjectNode();
    }
    if (!root.isObject()) {
      throw new DecodeException(
          "json: cannot unmarshal "
              + jsonKind(root)
              + " into Go value of type structs.ServiceDefinition");
    }
    String kind = "";
    String id = "";
    String name = "";
    List<String> tags = null;
    String address = "";
    Map<String, ServiceDefinition.TaggedAddress> tagged = null;
    Map<String, ServiceDefinition.TaggedAddress> taggedSnake = null;
    Map<String, String> meta = null;
    int port = 0;
    String socketPath = "";
    CheckDefinition check = emptyCheck();
    List<CheckDefinition> checks = null;
    ServiceDefinition.Weights weights = null;
    boolean enableTagOverride = false;
    boolean enableTagOverrideSnake = false;
    JsonNode proxy = null;
    JsonNode connect = null;
    JsonNode locality = null;

    final String s = "ServiceDefinition";
    for (Map.Entry<String, JsonNode> field : root.properties()) {
      String key = field.getKey();
      JsonNode v = field.getValue();
      switch (key.toLowerCase(Locale.ROOT)) {
        case "kind":
          kind = string(v, s, "Kind", kind);
          break;
        case "id":
          id = string(v, s, "ID", id);
          break;
        case "name":
          name = string(v, s, "Name", name);
          break;
        case "tags":
          tags = strings(v, s, "Tags");
          break;
        case "address":
          address = string(v, s, "Address", address);
          break;
        case "taggedaddresses":
          tagged = taggedAddresses(v, "TaggedAddresses");
          break;
        case "tagged_addresses":
          taggedSnake = taggedAddresses(v, "TaggedAddressesSnake");
          break;
        case "meta":
          meta = stringMap(v, s, "Meta");
          break;
        case "port":
          port = integer(v, s, "Port", port);
          break;
        case "socketpath":
          socketPath = string(v, s, "SocketPath", socketPath);
          break;
        case "check":
          if (!v.isNull()) {
            check = check(v);
          }
          break;
        case "checks":
          checks = checks(v);
          break;
        case "weights":
          weights = weights(v);
          break;
        case "token":
          string(v, s, "Token", ""); // accepted and ignored: ACLs are off
          break;
        case "namespace":
          string(v, s, "Namespace", ""); // Enterprise fields, accepted so strict mode allows them
          break;
        case "partition":
          string(v, s, "Partition", "");
          break;
        case "enabletagoverride":
          enableTagOverride = bool(v, s, "EnableTagOverride", enableTagOverride);
          break;
        case "enable_tag_override":
          enableTagOverrideSnake = bool(v, s, "EnableTagOverrideSnake", enableTagOverrideSnake);
          break;
        case "proxy":
          proxy = object(v, s, "Proxy", "structs.ConnectProxyConfig");
          break;
        case "connect":
          connect = object(v, s, "Connect", "structs.ServiceConnect");
          break;
        case "locality":
          locality = object(v, s, "Locality", "structs.Locality");
          break;
        default:
          unknown(key);
      }
    }
    if (tagged == null || tagged.isEmpty()) {
      tagged = taggedSnake;
    }
    return new ServiceDefinition(
        kind,
        id,
        name,
        tags == null ? List.of() : List.copyOf(tags),
        address,
        tagged == null ? Map.of() : tagged,
        meta,
        port,
        socketPath,
        check,
        checks == null ? List.of() : List.copyOf(checks),
        weights,
        enableTagOverride || enableTagOverrideSnake,
        proxy,
        connect,
        locality);
  }

  CheckUpdate checkUpdate(byte[] body) throws DecodeException {
    JsonNode root = parse(body);
    if (root.isNull()) {
      return new CheckUpdate("", "");
    }
    if (!root.isObject()) {
      throw new DecodeException(
          "json: cannot unmarshal " + jsonKind(root) + " into Go value of type agent.checkUpdate");
    }
    String status = "";
    String output = "";
    for (Map.Entry<String, JsonNode> field : root.properties()) {
      switch (field.getKey().toLowerCase(Locale.ROOT)) {
        case "status":
          status = string(field.getValue(), "checkUpdate", "Status", status);
          break;
        case "output":
          output = string(field.getValue(), "checkUpdate", "Output", output);
          break;
        default:
          unknown(field.getKey());
      }
    }
    return new CheckUpdate(status, output);
  }

  private CheckDefinition check(JsonNode v) throws DecodeException {
    if (!v.isObject()) {
      throw new DecodeException(
          "json: cannot unmarshal " + jsonKind(v) + " into Go value of type structs.CheckType");
    }
    String checkId = "";
    String name = "";
    String status = "";
    String notes = "";
    List<String> scriptArgs = null;
    List<String> args = null;
    List<String> scriptArgsSnake = null;
    String http = "";
    Map<String, List<String>> header = null;
    String method = "";
    String body = "";
    boolean disableRedirects = false;
    String tcp = "";
    String udp = "";
    JsonNode interval = null;
    String aliasNode = "";
    String aliasService = "";
    String dockerContainerId = "";
    String dockerContainerIdSnake = "";
    String shell = "";
    String grpc = "";
    boolean grpcUseTls = false;
    boolean grpcUseTlsSnake = false;
    String h2ping = "";
    Boolean h2pingUseTls = null;
    Boolean h2pingUseTlsSnake = null;
    String osService = "";
    String tlsServerName = "";
    String tlsServerNameSnake = "";
    boolean tlsSkipVerify = false;
    boolean tlsSkipVerifySnake = false;
    JsonNode timeout = null;
    JsonNode ttl = null;
    int successBeforePassing = 0;
    int failuresBeforeWarning = 0;
    int failuresBeforeCritical = 0;
    JsonNode deregister = null;
    JsonNode deregisterSnake = null;
    int outputMaxSize = 0;

    final String c = "CheckType";
    for (Map.Entry<String, JsonNode> field : v.properties()) {
      String key = field.getKey();
      JsonNode f = field.getValue();
      switch (key.toLowerCase(Locale.ROOT)) {
        case "checkid":
          checkId = string(f, c, "CheckID", checkId);
          break;
        case "name":
          name = string(f, c, "Name", name);
          break;
        case "status":
          status = string(f, c, "Status", status);
          break;
        case "notes":
          notes = string(f, c, "Notes", notes);
          break;
        case "scriptargs":
          scriptArgs = strings(f, c, "ScriptArgs");
          break;
        case "args":
          args = strings(f, c, "Args");
          break;
        case "script_args":
          scriptArgsSnake = strings(f, c, "ScriptArgsSnake");
          break;
        case "http":
          http = string(f, c, "HTTP", http);
          break;
        case "header":
          header = header(f);
          break;
        case "method":
          method = string(f, c, "Method", method);
          break;
        case "body":
          body = string(f, c, "Body", body);
          break;
        case "disableredirects":
          disableRedirects = bool(f, c, "DisableRedirects", disableRedirects);
          break;
        case "tcp":
          tcp = string(f, c, "TCP", tcp);
          break;
        case "udp":
          udp = string(f, c, "UDP", udp);
          break;
        case "interval":
          interval = f.isNull() ? null : f;
          break;
        case "aliasnode":
          aliasNode = string(f, c, "AliasNode", aliasNode);
          break;
        case "aliasservice":
          aliasService = string(f, c, "AliasService", aliasService);
          break;
        case "dockercontainerid":
          dockerContainerId = string(f, c, "DockerContainerID", dockerContainerId);
          break;
        case "docker_container_id":
          dockerContainerIdSnake = string(f, c, "DockerContainerIDSnake", dockerContainerIdSnake);
          break;
        case "shell":
          shell = string(f, c, "Shell", shell);
          break;
        case "grpc":
          grpc = string(f, c, "GRPC", grpc);
          break;
        case "grpcusetls":
          grpcUseTls = bool(f, c, "GRPCUseTLS", grpcUseTls);
          break;
        case "grpc_use_tls":
          grpcUseTlsSnake = bool(f, c, "GRPCUseTLSSnake", grpcUseTlsSnake);
          break;
        case "h2ping":
          h2ping = string(f, c, "H2PING", h2ping);
          break;
        case "h2pingusetls":
          h2pingUseTls = f.isNull() ? h2pingUseTls : bool(f, c, "H2PingUseTLS", false);
          break;
        case "h2ping_use_tls":
          h2pingUseTlsSnake =
              f.isNull() ? h2pingUseTlsSnake : bool(f, c, "H2PingUseTLSSnake", false);
          break;
        case "osservice":
          osService = string(f, c, "OSService", osService);
          break;
        case "tlsservername":
          tlsServerName = string(f, c, "TLSServerName", tlsServerName);
          break;
        case "tls_server_name":
          tlsServerNameSnake = string(f, c, "TLSServerNameSnake", tlsServerNameSnake);
          break;
        case "tlsskipverify":
          tlsSkipVerify = bool(f, c, "TLSSkipVerify", tlsSkipVerify);
          break;
        case "tls_skip_verify":
          tlsSkipVerifySnake = bool(f, c, "TLSSkipVerifySnake", tlsSkipVerifySnake);
          break;
        case "timeout":
          timeout = f.isNull() ? null : f;
          break;
        case "ttl":
          ttl = f.isNull() ? null : f;
          break;
        case "successbeforepassing":
          successBeforePassing = integer(f, c, "SuccessBeforePassing", successBeforePassing);
          break;
        case "failuresbeforewarning":
          failuresBeforeWarning = integer(f, c, "FailuresBeforeWarning", failuresBeforeWarning);
          break;
        case "failuresbeforecritical":
          failuresBeforeCritical = integer(f, c, "FailuresBeforeCritical", failuresBeforeCritical);
          break;
        case "deregistercriticalserviceafter":
          deregister = f.isNull() ? null : f;
          break;
        case "deregister_critical_service_after":
          deregisterSnake = f.isNull() ? null : f;
          break;
        case "outputmaxsize":
          outputMaxSize = integer(f, c, "OutputMaxSize", outputMaxSize);
          break;
        case "proxyhttp":
          string(f, c, "ProxyHTTP", ""); // declared by Consul, unused for a service's checks
          break;
        case "proxygrpc":
          string(f, c, "ProxyGRPC", "");
          break;
        case "serviceid":
          string(f, c, "ServiceID", "");
          break;
        case "service_id":
          string(f, c, "ServiceIDSnake", "");
          break;
        default:
          unknown(key);
      }
    }

    // Consul's CheckType.UnmarshalJSON merges the aliases after decoding, in this order.
    if (deregister == null) {
      deregister = deregisterSnake;
    }
    if (scriptArgs == null || scriptArgs.isEmpty()) {
      scriptArgs = args;
    }
    if (scriptArgs == null || scriptArgs.isEmpty()) {
      scriptArgs = scriptArgsSnake;
    }
    if (dockerContainerId.isEmpty()) {
      dockerContainerId = dockerContainerIdSnake;
    }
    if (tlsServerName.isEmpty()) {
      tlsServerName = tlsServerNameSnake;
    }
    long intervalNanos = duration(interval);
    long timeoutNanos = duration(timeout);
    long ttlNanos = duration(ttl);
    long deregisterNanos = duration(deregister);
    // H2PING defaults to TLS; either spelling set to false turns it off.
    boolean h2pingDefault = !h2ping.isEmpty();
    boolean camelTls = h2pingUseTls != null ? h2pingUseTls : h2pingDefault;
    boolean snakeTls = h2pingUseTlsSnake != null ? h2pingUseTlsSnake : h2pingDefault;
    boolean h2pingTls = h2ping.isEmpty() ? camelTls || snakeTls : snakeTls && camelTls;

    return new CheckDefinition(
        checkId,
        name,
        status,
        notes,
        scriptArgs == null ? null : List.copyOf(scriptArgs),
        http,
        header,
        method,
        body,
        disableRedirects,
        tcp,
        udp,
        intervalNanos,
        aliasNode,
        aliasService,
        dockerContainerId,
        shell,
        grpc,
        grpcUseTls || grpcUseTlsSnake,
        h2ping,
        h2pingTls,
        osService,
        tlsServerName,
        tlsSkipVerify || tlsSkipVerifySnake,
        timeoutNanos,
        ttlNanos,
        successBeforePassing,
        failuresBeforeWarning,
        failuresBeforeCritical,
        deregisterNanos,
        outputMaxSize);
  }

  private @Nullable List<CheckDefinition> checks(JsonNode v) throws DecodeException {
    if (v.isNull()) {
      return null;
    }
    if (!v.isArray()) {
      throw typeError(v, "ServiceDefinition", "Checks", "structs.CheckTypes");
    }
    List<CheckDefinition> out = new ArrayList<>();
    for (JsonNode element : v) {
      if (!element.isNull()) {
        out.add(check(element));
      }
    }
    return out;
  }

  private ServiceDefinition.@Nullable Weights weights(JsonNode v) throws DecodeException {
    if (v.isNull()) {
      return null;
    }
    if (!v.isObject()) {
      throw typeError(v, "ServiceDefinition", "Weights", "structs.Weights");
    }
    int passing = 0;
    int warning = 0;
    for (Map.Entry<String, JsonNode> field : v.properties()) {
      switch (field.getKey().toLowerCase(Locale.ROOT)) {
        case "passing":
          passing = integer(field.getValue(), "Weights", "Passing", passing);
          break;
        case "warning":
          warning = integer(field.getValue(), "Weights", "Warning", warning);
          break;
        default:
          unknown(field.getKey());
      }
    }
    return new ServiceDefinition.Weights(passing, warning);
  }

  private @Nullable Map<String, ServiceDefinition.TaggedAddress> taggedAddresses(
      JsonNode v, String field) throws DecodeException {
    if (v.isNull()) {
      return null;
    }
    if (!v.isObject()) {
      throw typeError(v, "ServiceDefinition", field, "map[string]structs.ServiceAddress");
    }
    Map<String, ServiceDefinition.TaggedAddress> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> entry : v.properties()) {
      JsonNode value = entry.getValue();
      String address = "";
      int port = 0;
      if (!value.isNull()) {
        if (!value.isObject()) {
          throw typeError(value, "ServiceDefinition", field, "structs.ServiceAddress");
        }
        for (Map.Entry<String, JsonNode> f : value.properties()) {
          switch (f.getKey().toLowerCase(Locale.ROOT)) {
            case "address":
              address = string(f.getValue(), "ServiceAddress", "Address", address);
              break;
            case "port":
              port = integer(f.getValue(), "ServiceAddress", "Port", port);
              break;
            default:
              unknown(f.getKey());
          }
        }
      }
      out.put(entry.getKey(), new ServiceDefinition.TaggedAddress(address, port));
    }
    return out;
  }

  private static @Nullable Map<String, List<String>> header(JsonNode v) throws DecodeException {
    if (v.isNull()) {
      return null;
    }
    if (!v.isObject()) {
      throw typeError(v, "CheckType", "Header", "map[string][]string");
    }
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> entry : v.properties()) {
      List<String> values = strings(entry.getValue(), "CheckType", "Header");
      out.put(entry.getKey(), values == null ? List.of() : List.copyOf(values));
    }
    return out;
  }

  private void unknown(String key) throws DecodeException {
    if (strict) {
      throw new DecodeException("json: unknown field " + GoDuration.quote(key));
    }
  }

  private static JsonNode parse(byte[] body) throws DecodeException {
    if (new String(body, StandardCharsets.UTF_8).isBlank()) {
      throw new DecodeException("EOF"); // what Go's Decoder returns for an empty body
    }
    try {
      JsonNode node = MAPPER.readTree(body);
      if (node == null || node.isMissingNode()) {
        throw new DecodeException("EOF");
      }
      return node;
    } catch (JsonProcessingException e) {
      throw new DecodeException(goSyntaxError(e));
    } catch (IOException e) {
      throw new DecodeException(String.valueOf(e.getMessage()));
    }
  }

  /** Rewords Jackson's syntax errors in the words of Go's JSON scanner. */
  private static String goSyntaxError(JsonProcessingException e) {
    if (e instanceof JsonEOFException) {
      return "unexpected EOF";
    }
    String message = String.valueOf(e.getOriginalMessage());
    Matcher unexpected = UNEXPECTED_CHAR.matcher(message);
    if (unexpected.find()) {
      String c = unexpected.group(1);
      if (message.contains("double-quote to start field name")) {
        return "invalid character '" + c + "' looking for beginning of object key string";
      } else if (message.contains("colon to separate field name")) {
        return "invalid character '" + c + "' after object key";
      } else if (message.contains("comma to close Object")) {
        return "invalid character '" + c + "' after object key:value pair";
      } else if (message.contains("comma to close Array")) {
        return "invalid character '" + c + "' after array element";
      }
      return "invalid character '" + c + "' looking for beginning of value";
    }
    Matcher token = UNRECOGNIZED_TOKEN.matcher(message);
    if (token.find()) {
      return "invalid character '" + token.group(1) + "' looking for beginning of value";
    }
    return message;
  }

  private static long duration(@Nullable JsonNode v) throws DecodeException {
    if (v == null) {
      return 0;
    }
    if (v.isTextual()) {
      try {
        return GoDuration.parse(v.textValue());
      } catch (GoDuration.FormatException e) {
        throw new DecodeException(e.getMessage());
      }
    }
    if (v.isNumber()) {
      return (long) v.doubleValue(); // Go decodes into float64, then truncates to nanoseconds
    }
    return 0; // Consul ignores booleans, arrays and objects here
  }

  private static String string(JsonNode v, String struct, String field, String current)
      throws DecodeException {
    if (v.isNull()) {
      return current;
    }
    if (!v.isTextual()) {
      throw typeError(v, struct, field, "string");
    }
    return v.textValue();
  }

  private static boolean bool(JsonNode v, String struct, String field, boolean current)
      throws DecodeException {
    if (v.isNull()) {
      return current;
    }
    if (!v.isBoolean()) {
      throw typeError(v, struct, field, "bool");
    }
    return v.booleanValue();
  }

  private static int integer(JsonNode v, String struct, String field, int current)
      throws DecodeException {
    if (v.isNull()) {
      return current;
    }
    if (v.isIntegralNumber() && v.canConvertToInt()) {
      return v.intValue();
    }
    if (v.isNumber()) {
      throw new DecodeException(
          "json: cannot unmarshal number "
              + v.asText()
              + " into Go struct field "
              + struct
              + "."
              + field
              + " of type int");
    }
    throw typeError(v, struct, field, "int");
  }

  private static @Nullable List<String> strings(JsonNode v, String struct, String field)
      throws DecodeException {
    if (v.isNull()) {
      return null;
    }
    if (!v.isArray()) {
      throw typeError(v, struct, field, "[]string");
    }
    List<String> out = new ArrayList<>(v.size());
    for (JsonNode element : v) {
      out.add(string(element, struct, field, ""));
    }
    return out;
  }

  private static @Nullable Map<String, String> stringMap(JsonNode v, String struct, String field)
      throws DecodeException {
    if (v.isNull()) {
      return null;
    }
    if (!v.isObject()) {
      throw typeError(v, struct, field, "map[string]string");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> entry : v.properties()) {
      out.put(entry.getKey(), string(entry.getValue(), struct, field, ""));
    }
    return out;
  }

  private static @Nullable JsonNode object(JsonNode v, String struct, String field, String type)
      throws DecodeException {
    if (v.isNull()) {
      return null;
    }
    if (!v.isObject()) {
      throw typeError(v, struct, field, type);
    }
    return v;
  }

  private static DecodeException typeError(JsonNode v, String struct, String field, String type) {
    return new DecodeException(
        "json: cannot unmarshal "
            + jsonKind(v)
            + " into Go struct field "
            + struct
            + "."
            + field
            + " of type "
            + type);
  }

  private static String jsonKind(JsonNode v) {
    if (v.isTextual()) {
      return "string";
    } else if (v.isNumber()) {
      return "number";
    } else if (v.isBoolean()) {
      return "bool";
    } else if (v.isArray()) {
      return "array";
    } else if (v.isObject()) {
      return "object";
    }
    return "null";
  }

  static CheckDefinition emptyCheck() {
    return new CheckDefinition(
        "", "", "", "", null, "", null, "", "", false, "", "", 0, "", "", "", "", "", false, "",
        false, "", "", false, 0, 0, 0, 0, 0, 0, 0);
  }
}
