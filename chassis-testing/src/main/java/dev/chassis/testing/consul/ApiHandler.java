package dev.chassis.testing.consul;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consul's HTTP API on top of {@link ConsulAgent}: routing on the percent-decoded path, method
 * enforcement, query parsing, blocking queries and Consul's headers and error texts. Also keeps the
 * request journal and the injected failures.
 */
final class ApiHandler implements HttpHandler {

  static final int JOURNAL_LIMIT = 10_000;

  private static final Logger logger = LoggerFactory.getLogger(ConsulDouble.class);
  private static final String TEXT = "text/plain; charset=utf-8";
  private static final String JSON = "application/json";
  private static final String LEADER = "127.0.0.1:8300";

  private final ConsulAgent agent;
  private final ConsulAgent.Settings settings;
  private final RequestDecoder decoder;
  private final Clock clock = Clock.systemUTC();
  private final Deque<ConsulDouble.RecordedRequest> journal = new ArrayDeque<>();
  private final List<Fault> faults = new ArrayList<>();
  private volatile boolean omitIndexHeader;

  /** An answer queued by {@link ConsulDouble#failNext}. */
  private record Fault(String pathPrefix, int status, String body) {}

  /** A response before it is written. */
  private record Response(
      int status, String contentType, byte[] body, Map<String, List<String>> headers) {
    static Response text(int status, String body) {
      return new Response(
          status, TEXT, body.getBytes(StandardCharsets.UTF_8), new LinkedHashMap<>());
    }

    static Response json(Object value, boolean pretty) {
      return new Response(200, JSON, Json.write(value, pretty), new LinkedHashMap<>());
    }

    static Response empty() {
      return new Response(200, "", new byte[0], new LinkedHashMap<>());
    }

    Response header(String name, String value) {
      headers.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
      return this;
    }
  }

  ApiHandler(ConsulAgent agent) {
    this.agent = agent;
    this.settings = agent.settings();
    this.decoder = new RequestDecoder(settings.strictDecoding());
  }

  void omitIndexHeader(boolean omit) {
    omitIndexHeader = omit;
  }

  void failNext(String pathPrefix, int status, String body) {
    synchronized (faults) {
      faults.add(new Fault(pathPrefix, status, body));
    }
  }

  List<ConsulDouble.RecordedRequest> requests() {
    synchronized (journal) {
      return List.copyOf(journal);
    }
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    long epoch = agent.servingEpoch();
    try {
      byte[] body = exchange.getRequestBody().readAllBytes();
      URI uri = exchange.getRequestURI();
      String path = uri.getPath() == null ? "" : uri.getPath();
      String rawPath = uri.getRawPath() == null ? "" : uri.getRawPath();
      String rawQuery = uri.getRawQuery() == null ? "" : uri.getRawQuery();
      String method = exchange.getRequestMethod();
      QueryParams query = QueryParams.parse(rawQuery);
      record(
          new ConsulDouble.RecordedRequest(
              method,
              path,
              rawPath,
              rawQuery,
              new String(body, StandardCharsets.UTF_8),
              token(query, exchange.getRequestHeaders()),
              clock.instant()));

      Fault fault = takeFault(path);
      Response response =
          fault != null
              ? Response.text(fault.status(), fault.body())
              : route(method, path, query, body, exchange.getRequestHeaders(), epoch);
      send(exchange, response);
    } catch (ConsulAgent.Aborted e) {
      // "Consul went away": closing without a response drops the connection.
    } catch (RuntimeException e) {
      logger.error("Consul double failed to serve {}", exchange.getRequestURI(), e);
      send(exchange, Response.text(500, String.valueOf(e)));
    } finally {
      exchange.close();
    }
  }

  private Response route(
      String method, String path, QueryParams query, byte[] body, Headers headers, long epoch)
      throws ConsulAgent.Aborted {
    try {
      if (path.equals("/v1/agent/service/register")) {
        requireMethod(method, "PUT");
        return register(query, body, headers);
      } else if (path.startsWith("/v1/agent/service/deregister/")) {
        requireMethod(method, "PUT");
        rejectEnterprise(query, headers);
        agent.deregister(path.substring("/v1/agent/service/deregister/".length()));
        return Response.empty();
      } else if (path.startsWith("/v1/agent/service/maintenance/")) {
        requireMethod(method, "PUT");
        return maintenance(
            path.substring("/v1/agent/service/maintenance/".length()), query, headers);
      } else if (path.startsWith("/v1/agent/service/")) {
        requireMethod(method, "GET");
        return agentService(path.substring("/v1/agent/service/".length()), query, headers, epoch);
      } else if (path.equals("/v1/agent/services")) {
        requireMethod(method, "GET");
        rejectFilter(query);
        rejectEnterprise(query, headers);
        return Response.json(agent.read(agent::agentServices), pretty(query));
      } else if (path.equals("/v1/agent/checks")) {
        requireMethod(method, "GET");
        rejectFilter(query);
        rejectEnterprise(query, headers);
        return Response.json(agent.read(agent::agentChecks), pretty(query));
      } else if (path.equals("/v1/agent/self")) {
        requireMethod(method, "GET");
        return Response.json(agent.read(agent::self), pretty(query));
      } else if (path.startsWith("/v1/agent/check/pass/")) {
        return ttl(method, path, "/v1/agent/check/pass/", ConsulAgent.PASSING, query, headers);
      } else if (path.startsWith("/v1/agent/check/warn/")) {
        return ttl(method, path, "/v1/agent/check/warn/", ConsulAgent.WARNING, query, headers);
      } else if (path.startsWith("/v1/agent/check/fail/")) {
        return ttl(method, path, "/v1/agent/check/fail/", ConsulAgent.CRITICAL, query, headers);
      } else if (path.startsWith("/v1/agent/check/update/")) {
        requireMethod(method, "PUT");
        return checkUpdate(
            path.substring("/v1/agent/check/update/".length()), body, query, headers);
      } else if (path.startsWith("/v1/health/service/")) {
        requireMethod(method, "GET");
        return serviceRead(
            path.substring("/v1/health/service/".length()), true, query, headers, epoch);
      } else if (path.startsWith("/v1/catalog/service/")) {
        requireMethod(method, "GET");
        return serviceRead(
            path.substring("/v1/catalog/service/".length()), false, query, headers, epoch);
      } else if (path.equals("/v1/status/leader")) {
        requireMethod(method, "GET");
        requireDatacenter(query);
        return Response.json(LEADER, pretty(query));
      } else if (path.equals("/v1/status/peers")) {
        requireMethod(method, "GET");
        requireDatacenter(query);
        return Response.json(List.of(LEADER), pretty(query));
      } else if (path.equals("/")) {
        return Response.text(
            200,
            "Consul Agent: UI disabled. To enable, set ui_config.enabled=true in the agent"
                + " configuration and restart.");
      } else if (path.contains("/v1/")) {
        return Response.text(404, "Invalid URL path: not a recognized HTTP API endpoint\n");
      }
      return Response.text(
          404,
          "Invalid URL path: if attempting to use the HTTP API, ensure the path starts with"
              + " '/v1/'\n");
    } catch (ConsulAgent.ApiError e) {
      Response response = Response.text(e.status, e.getMessage());
      if (e instanceof MethodNotAllowed) {
        for (String allowed : ((MethodNotAllowed) e).allow) {
          response.header("Allow", allowed);
        }
      }
      return response;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Agent endpoints

  private Response register(QueryParams query, byte[] body, Headers headers)
      throws ConsulAgent.ApiError {
    rejectEnterprise(query, headers);
    ServiceDefinition definition;
    try {
      definition = decoder.service(body);
    } catch (RequestDecoder.DecodeException e) {
      return Response.text(400, "Request decode failed: " + e.getMessage());
    }
    if (definition.name().isEmpty()) {
      return Response.text(400, "Missing service name");
    }
    String address = definition.address();
    if (address.equals("0.0.0.0") || address.equals("::") || address.equals("[::]")) {
      return Response.text(400, "Invalid service address");
    }
    ServiceDefinition.Weights weights = definition.weights();
    if (weights != null) {
      String error = null;
      if (weights.passing() < 1) {
        error = "Passing must be greater than 0";
      } else if (weights.warning() < 0) {
        error = "Warning must be greater or equal than 0";
      } else if (weights.passing() > 65535 || weights.warning() > 65535) {
        error = "DNS Weight must be between 0 and 65535";
      }
      if (error != null) {
        return Response.text(400, "Invalid Weights: " + error);
      }
    }
    String metaError = metaError(definition.meta());
    if (metaError != null) {
      return Response.text(400, "Invalid Service Meta: " + metaError);
    }
    for (CheckDefinition check : definition.allChecks()) {
      String error = check.validate();
      if (error != null) {
        return Response.text(400, "Invalid check: " + error);
      }
    }
    for (CheckDefinition check : definition.allChecks()) {
      if (!check.status().isEmpty() && !validStatus(check.status())) {
        return Response.text(400, "Status for checks must 'passing', 'warning', 'critical'");
      }
    }
    boolean replace =
        query.has("replace-existing-checks")
            && (query.first("replace-existing-checks").isEmpty()
                || query.first("replace-existing-checks").equals("true"));
    agent.register(definition, replace);
    return Response.empty();
  }

  private Response maintenance(String serviceId, QueryParams query, Headers headers)
      throws ConsulAgent.ApiError {
    if (serviceId.isEmpty()) {
      return Response.text(400, "Missing service ID");
    }
    if (!query.has("enable")) {
      return Response.text(400, "Missing value for enable");
    }
    Boolean enable = parseBool(query.first("enable"));
    if (enable == null) {
      return Response.text(
          400, "Invalid value for enable: " + GoDuration.quote(query.first("enable")));
    }
    rejectEnterprise(query, headers);
    agent.maintenance(serviceId, enable, query.first("reason"));
    return Response.empty();
  }

  private Response ttl(
      String method, String path, String prefix, String status, QueryParams query, Headers headers)
      throws ConsulAgent.ApiError {
    requireMethod(method, "PUT");
    rejectEnterprise(query, headers);
    agent.updateTtl(path.substring(prefix.length()), status, query.first("note"));
    return Response.empty();
  }

  private Response checkUpdate(String checkId, byte[] body, QueryParams query, Headers headers)
      throws ConsulAgent.ApiError {
    RequestDecoder.CheckUpdate update;
    try {
      update = decoder.checkUpdate(body);
    } catch (RequestDecoder.DecodeException e) {
      return Response.text(400, "Request decode failed: " + e.getMessage());
    }
    if (!validStatus(update.status())) {
      return Response.text(400, "Invalid check status: '" + update.status() + "'");
    }
    rejectEnterprise(query, headers);
    agent.updateTtl(checkId, update.status(), update.output());
    return Response.empty();
  }

  private Response agentService(String serviceId, QueryParams query, Headers headers, long epoch)
      throws ConsulAgent.ApiError, ConsulAgent.Aborted {
    Long wait = parseWait(query);
    parseIndex(query);
    rejectEnterprise(query, headers);
    String hash = query.first("hash");
    // Hash-based blocking (Consul's LocalBlockingQuery): only with ?hash=.
    long waitNanos = 0;
    if (!hash.isEmpty()) {
      waitNanos = wait == null ? 0 : wait;
      if (waitNanos == 0) {
        waitNanos = settings.defaultQueryTime().toNanos();
      }
      if (waitNanos > settings.maxQueryTime().toNanos()) {
        waitNanos = settings.maxQueryTime().toNanos();
      }
      waitNanos += jitter(waitNanos);
    }
    Map<String, @Nullable Object> service =
        agent.await(
            waitNanos,
            epoch,
            () -> agent.agentService(serviceId),
            json -> !hash.equals(json.get("ContentHash")));
    return Response.json(service, pretty(query))
        .header("X-Consul-ContentHash", String.valueOf(service.get("ContentHash")));
  }

  // ---------------------------------------------------------------------------------------------
  // Health and catalog

  private Response serviceRead(
      String name, boolean health, QueryParams query, Headers headers, long epoch)
      throws ConsulAgent.ApiError, ConsulAgent.Aborted {
    rejectEnterprise(query, headers);
    Map<String, String> nodeMeta = new LinkedHashMap<>();
    for (String filter : query.all("node-meta")) {
      int colon = filter.indexOf(':');
      nodeMeta.put(
          colon < 0 ? filter : filter.substring(0, colon),
          colon < 0 ? "" : filter.substring(colon + 1));
    }
    String consistency = consistency(query);
    Long wait = parseWait(query);
    long minIndex = parseIndex(query);
    rejectFilter(query);
    if (name.isEmpty()) {
      return Response.text(400, "Missing service name");
    }
    requireDatacenter(query);

    long waitNanos = 0;
    if (minIndex != 0) {
      waitNanos = wait == null ? 0 : wait;
      if (waitNanos > settings.maxQueryTime().toNanos()) {
        waitNanos = settings.maxQueryTime().toNanos();
      } else if (waitNanos <= 0) {
        waitNanos = settings.defaultQueryTime().toNanos();
      }
      waitNanos += jitter(waitNanos);
    }
    List<String> tags = query.all("tag");
    Object body;
    long index;
    if (health) {
      ConsulAgent.Indexed<List<ConsulAgent.HealthEntry>> result =
          agent.await(
              waitNanos,
              epoch,
              () -> agent.health(name, tags, nodeMeta),
              r -> Long.compareUnsigned(r.index(), minIndex) > 0);
      // Consul parses ?passing only after the (possibly blocking) read.
      Boolean passing = query.has("passing") ? parseBool(query.first("passing")) : Boolean.FALSE;
      if (query.has("passing") && query.first("passing").isEmpty()) {
        passing = Boolean.TRUE;
      }
      if (passing == null) {
        return Response.text(400, "Invalid value for ?passing");
      }
      List<Object> entries = new ArrayList<>();
      for (ConsulAgent.HealthEntry entry : result.value()) {
        if (!passing || entry.passing()) {
          entries.add(entry.json());
        }
      }
      body = entries;
      index = result.index();
    } else {
      ConsulAgent.Indexed<List<Object>> result =
          agent.await(
              waitNanos,
              epoch,
              () -> agent.catalog(name, tags, nodeMeta),
              r -> Long.compareUnsigned(r.index(), minIndex) > 0);
      body = result.value();
      index = result.index();
    }
    Response response = Response.json(body, pretty(query));
    if (!omitIndexHeader) {
      response.header("X-Consul-Index", Long.toUnsignedString(index));
    }
    return response
        .header("X-Consul-Knownleader", "true")
        .header("X-Consul-Lastcontact", "0")
        .header("X-Consul-Effective-Consistency", consistency)
        .header("X-Consul-Query-Backend", "blocking-query")
        .header("X-Consul-Default-Acl-Policy", "allow")
        .header("Vary", "Accept-Encoding");
  }

  // ---------------------------------------------------------------------------------------------
  // Parsing helpers (Consul's agent/http.go)

  private static String consistency(QueryParams query) throws ConsulAgent.ApiError {
    boolean stale = query.has("stale");
    boolean consistent = query.has("consistent");
    boolean cached = query.has("cached");
    String maxStale = query.first("max_stale");
    if (!maxStale.isEmpty()) {
      try {
        if (GoDuration.parse(maxStale) > 0) {
          stale = true;
        }
      } catch (GoDuration.FormatException e) {
        throw new ConsulAgent.ApiError(
            400, "Invalid max_stale value " + GoDuration.quote(maxStale));
      }
    }
    if (stale && consistent) {
      throw new ConsulAgent.ApiError(
          400, "Cannot specify ?stale with ?consistent, conflicting semantics.");
    }
    if (cached && consistent) {
      throw new ConsulAgent.ApiError(
          400, "Cannot specify ?cached with ?consistent, conflicting semantics.");
    }
    return consistent ? "consistent" : stale ? "stale" : "leader";
  }

  private static @Nullable Long parseWait(QueryParams query) throws ConsulAgent.ApiError {
    String wait = query.first("wait");
    if (wait.isEmpty()) {
      return null;
    }
    try {
      return GoDuration.parse(wait);
    } catch (GoDuration.FormatException e) {
      throw new ConsulAgent.ApiError(400, "Invalid wait time");
    }
  }

  private static long parseIndex(QueryParams query) throws ConsulAgent.ApiError {
    String index = query.first("index");
    if (index.isEmpty()) {
      return 0;
    }
    // Go's strconv.ParseUint: decimal digits only, no sign, at most 2^64-1.
    if (!index.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw new ConsulAgent.ApiError(400, "Invalid index");
    }
    try {
      return Long.parseUnsignedLong(index);
    } catch (NumberFormatException e) {
      throw new ConsulAgent.ApiError(400, "Invalid index");
    }
  }

  private void requireDatacenter(QueryParams query) throws ConsulAgent.ApiError {
    String dc = query.first("dc");
    if (!dc.isEmpty() && !dc.equals(settings.datacenter())) {
      throw new ConsulAgent.ApiError(500, "No path to datacenter");
    }
  }

  private static void rejectFilter(QueryParams query) throws ConsulAgent.ApiError {
    if (!query.first("filter").isEmpty()) {
      throw new ConsulAgent.ApiError(
          400, "?filter expressions are not supported by the Consul double");
    }
  }

  /** Consul CE answers namespace and partition selectors with 400. */
  private static void rejectEnterprise(QueryParams query, Headers headers)
      throws ConsulAgent.ApiError {
    String namespaces = " - Namespaces are a Consul Enterprise feature";
    String partitions = " - Partitions are a Consul Enterprise feature";
    if (!nullToEmpty(headers.getFirst("X-Consul-Namespace")).isEmpty()) {
      throw new ConsulAgent.ApiError(400, "Invalid header: \"X-Consul-Namespace\"" + namespaces);
    }
    if (!query.first("ns").isEmpty()) {
      throw new ConsulAgent.ApiError(400, "Invalid query parameter: \"ns\"" + namespaces);
    }
    if (!nullToEmpty(headers.getFirst("X-Consul-Partition")).isEmpty()) {
      throw new ConsulAgent.ApiError(400, "Invalid header: \"X-Consul-Partition\"" + partitions);
    }
    if (!query.first("partition").isEmpty()) {
      throw new ConsulAgent.ApiError(400, "Invalid query parameter: \"partition\"" + partitions);
    }
  }

  private static void requireMethod(String method, String allowed) throws ConsulAgent.ApiError {
    if (!method.equals(allowed)) {
      throw new MethodNotAllowed(method, allowed);
    }
  }

  /** Consul's {@code MethodNotAllowedError}: 405 with an {@code Allow} header. */
  private static final class MethodNotAllowed extends ConsulAgent.ApiError {
    private static final long serialVersionUID = 1L;
    final List<String> allow;

    MethodNotAllowed(String method, String allowed) {
      super(405, "method " + method + " not allowed");
      this.allow = List.of("OPTIONS", allowed);
    }
  }

  /** Consul's service-meta rules (structs.validateMetadata). */
  private static @Nullable String metaError(@Nullable Map<String, String> meta) {
    if (meta == null) {
      return null;
    }
    if (meta.size() > 64) {
      return "Node metadata cannot contain more than 64 key/value pairs";
    }
    for (Map.Entry<String, String> pair : meta.entrySet()) {
      String key = pair.getKey();
      String value = pair.getValue();
      String error = null;
      if (key.isEmpty()) {
        error = "Key cannot be blank";
      } else if (!key.matches("[a-zA-Z0-9_-]+")) {
        error = "Key contains invalid characters";
      } else if (key.length() > 128) {
        error = "Key is too long (limit: 128 characters)";
      } else if (key.startsWith("consul-")) {
        error = "Key prefix 'consul-' is reserved for internal use";
      } else if (value.getBytes(StandardCharsets.UTF_8).length > 512) {
        error = "Value is too long (limit: 512 characters)";
      }
      if (error != null) {
        return "Couldn't load metadata pair ('" + key + "', '" + value + "'): " + error;
      }
    }
    return null;
  }

  private static boolean validStatus(String status) {
    return status.equals(ConsulAgent.PASSING)
        || status.equals(ConsulAgent.WARNING)
        || status.equals(ConsulAgent.CRITICAL);
  }

  /** Go's {@code strconv.ParseBool}; {@code null} when the value is not one of its spellings. */
  private static @Nullable Boolean parseBool(String value) {
    switch (value) {
      case "1":
      case "t":
      case "T":
      case "TRUE":
      case "true":
      case "True":
        return Boolean.TRUE;
      case "0":
      case "f":
      case "F":
      case "FALSE":
      case "false":
      case "False":
        return Boolean.FALSE;
      default:
        return null;
    }
  }

  private long jitter(long waitNanos) {
    long bound = waitNanos / 16;
    return settings.jitter() && bound > 0 ? ThreadLocalRandom.current().nextLong(bound) : 0;
  }

  private static boolean pretty(QueryParams query) {
    return query.has("pretty");
  }

  /** Consul's token sources, in its order: {@code ?token=}, X-Consul-Token, a bearer token. */
  private static @Nullable String token(QueryParams query, Headers headers) {
    if (!query.first("token").isEmpty()) {
      return query.first("token");
    }
    String header = headers.getFirst("X-Consul-Token");
    if (header != null && !header.isEmpty()) {
      return header;
    }
    String authorization = headers.getFirst("Authorization");
    if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return authorization.substring(7).trim();
    }
    return null;
  }

  private static String nullToEmpty(@Nullable String value) {
    return value == null ? "" : value;
  }

  private void record(ConsulDouble.RecordedRequest request) {
    synchronized (journal) {
      journal.addLast(request);
      while (journal.size() > JOURNAL_LIMIT) {
        journal.removeFirst();
      }
    }
  }

  private @Nullable Fault takeFault(String path) {
    synchronized (faults) {
      for (Iterator<Fault> it = faults.iterator(); it.hasNext(); ) {
        Fault fault = it.next();
        if (path.startsWith(fault.pathPrefix())) {
          it.remove();
          return fault;
        }
      }
    }
    return null;
  }

  private static void send(HttpExchange exchange, Response response) throws IOException {
    Headers headers = exchange.getResponseHeaders();
    if (!response.contentType().isEmpty()) {
      headers.set("Content-Type", response.contentType());
    }
    response.headers().forEach((name, values) -> headers.put(name, values));
    byte[] body = response.body();
    exchange.sendResponseHeaders(response.status(), body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }
}
