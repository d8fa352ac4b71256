package dev.chassis.testing.consul;

import static dev.chassis.testing.consul.Json.obj;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state of the double: one Consul agent that is also the only server of a one-node datacenter.
 * It keeps the agent's local view (what {@code /v1/agent/*} shows) and the catalog view (what
 * {@code /v1/health} and {@code /v1/catalog} show) apart, because Consul does: a check whose status
 * changes is written to the catalog at once, one whose output alone changes is written back minutes
 * later.
 *
 * <p>One lock guards everything; every catalog write raises the raft index and wakes blocked
 * queries through one {@link Condition}. TTL expiry, reaping and deferred output sync run on a
 * virtual clock that follows real time and that {@link #advanceTime} moves forward.
 */
final class ConsulAgent {

  static final String PASSING = "passing";
  static final String WARNING = "warning";
  static final String CRITICAL = "critical";
  static final String VERSION = "1.21.3";
  static final String NODE_ADDRESS = "127.0.0.1";

  private static final Logger logger = LoggerFactory.getLogger(ConsulDouble.class);
  private static final long NONE = Long.MIN_VALUE;
  private static final long CHECK_UPDATE_INTERVAL = TimeUnit.MINUTES.toNanos(5);
  private static final int DEFAULT_OUTPUT_MAX_SIZE = 4 * 1024;
  // A fresh dev agent has registered its node and serfHealth by about this index.
  private static final long NODE_INDEX = 11;
  private static final String MAINTENANCE_PREFIX = "_service_maintenance:";
  private static final String DEFAULT_MAINTENANCE_REASON =
      "Maintenance mode is enabled for this service, but no reason was provided. "
          + "This is a default message.";

  /** What the builder configured. */
  record Settings(
      boolean grpcChecks,
      Duration reapInterval,
      Duration minDeregisterCriticalServiceAfter,
      Duration maxQueryTime,
      Duration defaultQueryTime,
      boolean jitter,
      boolean strictDecoding,
      String nodeName,
      String datacenter) {}

  /** An error Consul answers with a plain-text body. */
  static class ApiError extends Exception {
    private static final long serialVersionUID = 1L;
    final int status;

    ApiError(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }

  /** A blocked query was cut off because the double stopped serving or closed. */
  static final class Aborted extends Exception {
    private static final long serialVersionUID = 1L;

    Aborted() {
      super("aborted", null, false, false);
    }
  }

  /** A read evaluated under the lock; it may fail like an endpoint does. */
  @FunctionalInterface
  interface Evaluation<T> {
    T evaluate() throws ApiError;
  }

  /** A query result and the index that goes into {@code X-Consul-Index}. */
  record Indexed<T>(long index, T value) {}

  /** One {@code /v1/health/service} entry and whether all of its checks are passing. */
  record HealthEntry(Map<String, @Nullable Object> json, boolean passing) {}

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final Settings settings;
  private final CheckProbes probes = new CheckProbes();
  private final ScheduledThreadPoolExecutor scheduler;
  private final ExecutorService probeExecutor;
  private final long startNanos = System.nanoTime();
  private final String nodeId = UUID.randomUUID().toString();

  // Everything below is guarded by lock.
  private long offsetNanos;
  private long raftIndex;
  private String serfStatus = PASSING;
  private long serfModifyIndex;
  private long lastExtinctionIndex;
  private final Map<String, Long> serviceIndexes = new HashMap<>();
  private final Map<String, ServiceState> services = new TreeMap<>();
  private final Map<String, CheckState> checks = new TreeMap<>();
  private long lastReapTick;
  private long servingEpoch;
  private boolean closed;
  private @Nullable ScheduledFuture<?> wakeup;

  ConsulAgent(Settings settings) {
    this.settings = settings;
    this.scheduler = new ScheduledThreadPoolExecutor(1, daemon("consul-double-timer"));
    this.scheduler.setRemoveOnCancelPolicy(true);
    this.probeExecutor = Executors.newCachedThreadPool(daemon("consul-double-check"));
    resetCatalog();
  }

  Settings settings() {
    return settings;
  }

  // ---------------------------------------------------------------------------------------------
  // Writes

  /** {@code PUT /v1/agent/service/register}, after the HTTP layer validated the definition. */
  void register(ServiceDefinition definition, boolean replaceExistingChecks) throws ApiError {
    List<CheckDefinition> definitions = definition.allChecks();
    for (CheckDefinition check : definitions) {
      if (check.isScript()) {
        throw new ApiError(
            500,
            "Scripts are disabled on this agent from remote calls; to enable, configure"
                + " 'enable_script_checks' to true");
      }
    }
    lock.lock();
    try {
      String id = definition.id().isEmpty() ? definition.name() : definition.id();
      ServiceRecord record = ServiceRecord.of(definition, id);
      long now = now();
      long index = raftIndex + 1;
      boolean wrote = false;
      Set<String> touched = new HashSet<>();
      Set<String> maybeExtinct = new HashSet<>();

      ServiceState existing = services.get(id);
      if (existing == null) {
        services.put(id, new ServiceState(record, index, index));
        wrote = true;
      } else if (!existing.record.equals(record)) {
        services.put(id, new ServiceState(record, existing.createIndex, index));
        wrote = true;
        maybeExtinct.add(existing.record.name());
      }

      Set<String> listed = new HashSet<>();
      for (int i = 0; i < definitions.size(); i++) {
        CheckDefinition check = definitions.get(i);
        String checkId = check.checkId();
        if (checkId.isEmpty()) {
          checkId = "service:" + id + (definitions.size() > 1 ? ":" + (i + 1) : "");
        }
        listed.add(checkId);
        String name =
            check.name().isEmpty() ? "Service '" + record.name() + "' check" : check.name();
        CheckState previous = checks.get(checkId);
        CheckState state = new CheckState(checkId, record, name, check.notes(), check);
        if (previous != null) {
          // Consul restores status and output of a re-registered check from its old state.
          state.status = previous.status;
          state.output = previous.output;
          stopRunner(previous);
          if (!previous.serviceId.equals(id)) {
            touched.add(previous.serviceName);
          }
        } else {
          state.status = check.status().isEmpty() ? CRITICAL : check.status();
        }
        CatalogCheck desired = state.local();
        if (previous == null) {
          state.catalog = desired;
          state.createIndex = index;
          state.modifyIndex = index;
          wrote = true;
        } else {
          state.catalog = previous.catalog;
          state.createIndex = previous.createIndex;
          state.modifyIndex = previous.modifyIndex;
          if (!desired.equals(previous.catalog)) {
            state.catalog = desired;
            state.modifyIndex = index;
            wrote = true;
          }
        }
        if (check.isTtl()) {
          state.ttlDeadline = now + check.ttlNanos();
        }
        if (check.deregisterCriticalServiceAfterNanos() > 0) {
          long after = check.deregisterCriticalServiceAfterNanos();
          long minimum = settings.minDeregisterCriticalServiceAfter().toNanos();
          if (after < minimum) {
            logger.warn(
                "check {} has deregister interval below minimum of {}",
                checkId,
                GoDuration.format(minimum));
            after = minimum;
          }
          state.reapAfter = after;
        }
        state.successCounter = check.successBeforePassing();
        state.failuresCounter = check.failuresBeforeCritical();
        checks.put(checkId, state);
        startRunner(state);
      }

      for (CheckState check : List.copyOf(checks.values())) {
        if (check.serviceId.equals(id)
            && !listed.contains(check.id)
            && replaceExistingChecks
            && !check.id.startsWith(MAINTENANCE_PREFIX)) {
          removeCheck(check);
          wrote = true;
        }
      }

      if (wrote) {
        raftIndex = index;
        serviceIndexes.put(key(record.name()), index);
        for (String name : touched) {
          touchService(name, index);
        }
        for (String name : maybeExtinct) {
          afterRemoval(name, index);
        }
        changed.signalAll();
      }
      reschedule();
    } finally {
      lock.unlock();
    }
  }

  /** {@code PUT /v1/agent/service/deregister/:id}. */
  void deregister(String serviceId) throws ApiError {
    lock.lock();
    try {
      requireService(serviceId);
      removeService(serviceId);
      reschedule();
    } finally {
      lock.unlock();
    }
  }

  /** {@code PUT /v1/agent/check/pass|warn|fail/:id} and {@code /update/:id}. */
  void updateTtl(String checkId, String status, String output) throws ApiError {
    lock.lock();
    try {
      CheckState check = checks.get(checkId);
      if (check == null) {
        throw new ApiError(
            404,
            "Unknown check ID "
                + GoDuration.quote(checkId)
                + ". Ensure that the check ID is passed, not the check name.");
      }
      if (check.definition == null || !check.definition.isTtl()) {
        throw new ApiError(
            500, "CheckID " + GoDuration.quote(checkId) + " does not have associated TTL");
      }
      setTtlStatus(check, status, output);
      reschedule();
    } finally {
      lock.unlock();
    }
  }

  /** {@code PUT /v1/agent/service/maintenance/:id}. */
  void maintenance(String serviceId, boolean enable, String reason) throws ApiError {
    lock.lock();
    try {
      ServiceState service = requireService(serviceId);
      String checkId = MAINTENANCE_PREFIX + serviceId;
      CheckState existing = checks.get(checkId);
      if (enable == (existing != null)) {
        return;
      }
      long index = ++raftIndex;
      if (enable) {
        CheckState check =
            new CheckState(
                checkId,
                service.record,
                "Service Maintenance Mode",
                reason.isEmpty() ? DEFAULT_MAINTENANCE_REASON : reason,
                null);
        check.status = CRITICAL;
        check.catalog = check.local();
        check.createIndex = index;
        check.modifyIndex = index;
        checks.put(checkId, check);
        logger.info("Service {} entered maintenance mode", serviceId);
      } else {
        removeCheck(existing);
        logger.info("Service {} left maintenance mode", serviceId);
      }
      touchService(service.record.name(), index);
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Test hook: sets any check's status as if the check itself had reported it. */
  void setCheckStatus(String checkId, String status, String output) {
    lock.lock();
    try {
      CheckState check = checks.get(checkId);
      if (check == null) {
        throw new IllegalArgumentException(
            "checkId: " + checkId + " (expected: a registered check)");
      }
      if (check.definition != null && check.definition.isTtl()) {
        setTtlStatus(check, status, output);
      } else {
        updateStatus(check, status, output, now());
      }
      reschedule();
    } finally {
      lock.unlock();
    }
  }

  /** Test hook: the node's {@code serfHealth} check. */
  void setNodeHealth(String status) {
    lock.lock();
    try {
      if (serfStatus.equals(status)) {
        return;
      }
      long index = ++raftIndex;
      serfStatus = status;
      serfModifyIndex = index;
      // A node check belongs to every service instance on the node.
      for (ServiceState service : services.values()) {
        serviceIndexes.put(key(service.record.name()), index);
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Test hook: moves the virtual clock and runs what fell due. */
  void advanceTime(Duration amount) {
    lock.lock();
    try {
      offsetNanos = Math.addExact(offsetNanos, amount.toNanos());
      processDue();
      reschedule();
    } finally {
      lock.unlock();
    }
  }

  /** Test hook: an agent restart that lost its data directory. */
  void forgetEverything() {
    lock.lock();
    try {
      for (CheckState check : checks.values()) {
        stopRunner(check);
      }
      resetCatalog();
      changed.signalAll();
      reschedule();
    } finally {
      lock.unlock();
    }
  }

  /** Cuts off every blocked query of the current serving period. */
  void abortBlockedQueries() {
    lock.lock();
    try {
      servingEpoch++;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  long servingEpoch() {
    lock.lock();
    try {
      return servingEpoch;
    } finally {
      lock.unlock();
    }
  }

  void close() {
    lock.lock();
    try {
      closed = true;
      for (CheckState check : checks.values()) {
        stopRunner(check);
      }
      if (wakeup != null) {
        wakeup.cancel(false);
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    scheduler.shutdownNow();
    probeExecutor.shutdownNow();
  }

  // ---------------------------------------------------------------------------------------------
  // Reads

  /**
   * Evaluates a read until {@code done} accepts the result or {@code waitNanos} of real time
   * passed; a wait of 0 evaluates once. Any catalog write wakes the wait, so a caller sees Consul's
   * spurious wake-ups too (and loops on them as Consul does).
   */
  <T> T await(long waitNanos, long epoch, Evaluation<T> evaluation, Predicate<T> done)
      throws ApiError, Aborted {
    lock.lock();
    try {
      long deadline = System.nanoTime() + waitNanos;
      while (true) {
        if (closed || epoch != servingEpoch) {
          throw new Aborted();
        }
        T result = evaluation.evaluate();
        long remaining = deadline - System.nanoTime();
        if (waitNanos <= 0 || done.test(result) || remaining <= 0) {
          return result;
        }
        changed.awaitNanos(remaining);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Aborted();
    } finally {
      lock.unlock();
    }
  }

  /** {@code /v1/health/service/:name}: entries (tag and node-meta filtered) and the index. */
  Indexed<List<HealthEntry>> health(String name, List<String> tags, Map<String, String> nodeMeta) {
    List<HealthEntry> entries = new ArrayList<>();
    if (nodeMetaMatches(nodeMeta)) {
      for (ServiceState service : instancesOf(name)) {
        if (!hasTags(service.record, tags)) {
          continue;
        }
        List<Object> checkJson = new ArrayList<>();
        checkJson.add(serfJson());
        boolean passing = PASSING.equals(serfStatus);
        for (CheckState check : checksOf(service.record.id())) {
          checkJson.add(checkJson(check, check.catalog, check.createIndex, check.modifyIndex));
          passing &= PASSING.equals(check.catalog.status());
        }
        entries.add(
            new HealthEntry(
                obj("Node", nodeJson(), "Service", serviceJson(service), "Checks", checkJson),
                passing));
      }
    }
    return new Indexed<>(queryIndex(name), entries);
  }

  /** {@code /v1/catalog/service/:name}. */
  Indexed<List<Object>> catalog(String name, List<String> tags, Map<String, String> nodeMeta) {
    List<Object> entries = new ArrayList<>();
    if (nodeMetaMatches(nodeMeta)) {
      for (ServiceState service : instancesOf(name)) {
        if (hasTags(service.record, tags)) {
          entries.add(catalogJson(service));
        }
      }
    }
    return new Indexed<>(queryIndex(name), entries);
  }

  /** {@code /v1/agent/services}. */
  Map<String, Object> agentServices() {
    Map<String, Object> out = new LinkedHashMap<>();
    for (ServiceState service : services.values()) {
      out.put(service.record.id(), agentServiceJson(service.record));
    }
    return out;
  }

  /** {@code /v1/agent/service/:id} with its content hash. */
  Map<String, @Nullable Object> agentService(String serviceId) throws ApiError {
    ServiceState service = services.get(serviceId);
    if (service == null) {
      throw new ApiError(404, "unknown service ID: " + serviceId);
    }
    Map<String, @Nullable Object> json = agentServiceJson(service.record);
    json.put("ContentHash", Json.contentHash(json));
    return json;
  }

  /** {@code /v1/agent/checks}: the agent's local view. */
  Map<String, Object> agentChecks() {
    Map<String, Object> out = new LinkedHashMap<>();
    for (CheckState check : checks.values()) {
      out.put(check.id, checkJson(check, check.local(), 0, 0));
    }
    return out;
  }

  /** {@code /v1/agent/self}. */
  Map<String, @Nullable Object> self() {
    return obj(
        "Config",
        obj(
            "Datacenter",
            settings.datacenter(),
            "PrimaryDatacenter",
            settings.datacenter(),
            "NodeName",
            settings.nodeName(),
            "NodeID",
            nodeId,
            "Revision",
            "double",
            "Server",
            true,
            "Version",
            VERSION,
            "BuildDate",
            "2025-01-01T00:00:00Z"),
        "DebugConfig",
        obj(),
        "Coord",
        null,
        "Member",
        obj(
            "Name", settings.nodeName(),
            "Addr", NODE_ADDRESS,
            "Port", 8301,
            "Tags", obj("role", "consul", "dc", settings.datacenter(), "vsn", "2"),
            "Status", 1,
            "ProtocolMin", 1,
            "ProtocolMax", 5,
            "ProtocolCur", 2,
            "DelegateMin", 2,
            "DelegateMax", 5,
            "DelegateCur", 4),
        "Stats",
        obj(),
        "Meta",
        obj("consul-network-segment", "", "consul-version", VERSION));
  }

  /** The index a blocking read of this service returns (Consul's {@code maxIndexForService}). */
  private long queryIndex(String name) {
    long index;
    if (instancesOf(name).isEmpty() && lastExtinctionIndex > 0) {
      index = lastExtinctionIndex;
    } else {
      Long serviceIndex = serviceIndexes.get(key(name));
      index = serviceIndex != null ? serviceIndex : raftIndex; // the catalog's max index
    }
    return Math.max(1, index);
  }

  long index() {
    lock.lock();
    try {
      return raftIndex;
    } finally {
      lock.unlock();
    }
  }

  <T> T read(Supplier<T> reader) {
    lock.lock();
    try {
      return reader.get();
    } finally {
      lock.unlock();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Java inspection

  List<ConsulDouble.Instance> instances(String name) {
    return read(
        () -> {
          List<ConsulDouble.Instance> out = new ArrayList<>();
          for (ServiceState service : instancesOf(name)) {
            out.add(instance(service));
          }
          return List.copyOf(out);
        });
  }

  Optional<ConsulDouble.Instance> instance(String serviceId) {
    return read(() -> Optional.ofNullable(services.get(serviceId)).map(this::instance));
  }

  Optional<ConsulDouble.Check> check(String checkId) {
    return read(() -> Optional.ofNullable(checks.get(checkId)).map(ConsulAgent::publicCheck));
  }

  private ConsulDouble.Instance instance(ServiceState service) {
    ServiceRecord r = service.record;
    List<ConsulDouble.Check> own = new ArrayList<>();
    for (CheckState check : checksOf(r.id())) {
      own.add(publicCheck(check));
    }
    return new ConsulDouble.Instance(
        r.id(), r.name(), r.address(), r.port(), r.tags(), r.meta(), List.copyOf(own));
  }

  private static ConsulDouble.Check publicCheck(CheckState check) {
    CheckDefinition d = check.definition;
    return new ConsulDouble.Check(
        check.id,
        check.name,
        check.serviceId,
        check.type,
        check.status,
        check.output,
        check.notes,
        d == null ? null : duration(d.intervalNanos()),
        d == null ? null : duration(d.timeoutNanos()),
        d == null ? null : duration(d.ttlNanos()),
        d == null || d.grpc().isEmpty() ? null : d.grpc(),
        d != null && d.grpcUseTls(),
        d == null ? null : duration(d.deregisterCriticalServiceAfterNanos()));
  }

  private static @Nullable Duration duration(long nanos) {
    return nanos == 0 ? null : Duration.ofNanos(nanos);
  }

  // ---------------------------------------------------------------------------------------------
  // Internals (lock held)

  private void resetCatalog() {
    services.clear();
    checks.clear();
    serviceIndexes.clear();
    lastExtinctionIndex = 0;
    serfStatus = PASSING;
    serfModifyIndex = NODE_INDEX + 1;
    raftIndex = NODE_INDEX + 1;
  }

  private long now() {
    return System.nanoTime() - startNanos + offsetNanos;
  }

  private ServiceState requireService(String serviceId) throws ApiError {
    ServiceState service = services.get(serviceId);
    if (service == null) {
      throw new ApiError(
          404,
          "Unknown service ID "
              + GoDuration.quote(serviceId)
              + ". Ensure that the service ID is passed, not the service name.");
    }
    return service;
  }

  private void removeService(String serviceId) {
    ServiceState service = services.remove(serviceId);
    for (CheckState check : List.copyOf(checks.values())) {
      if (check.serviceId.equals(serviceId)) {
        removeCheck(check);
      }
    }
    long index = ++raftIndex;
    afterRemoval(service.record.name(), index);
    changed.signalAll();
  }

  private void removeCheck(CheckState check) {
    checks.remove(check.id);
    stopRunner(check);
  }

  /** After an instance of {@code name} went away: bump its index, or record its extinction. */
  private void afterRemoval(String name, long index) {
    if (instancesOf(name).isEmpty()) {
      serviceIndexes.remove(key(name));
      lastExtinctionIndex = index;
    } else {
      serviceIndexes.put(key(name), index);
    }
  }

  private void touchService(String name, long index) {
    if (!instancesOf(name).isEmpty()) {
      serviceIndexes.put(key(name), index);
    }
  }

  private void setTtlStatus(CheckState check, String status, String output) {
    int max =
        check.definition != null && check.definition.outputMaxSize() > 0
            ? check.definition.outputMaxSize()
            : DEFAULT_OUTPUT_MAX_SIZE;
    byte[] bytes = output.getBytes(StandardCharsets.UTF_8);
    if (bytes.length > max) {
      output =
          new String(bytes, 0, max, StandardCharsets.UTF_8)
              + " ... (captured "
              + max
              + " of "
              + bytes.length
              + " bytes)";
    }
    long now = now();
    updateStatus(check, status, output, now);
    check.lastOutput = output;
    check.ttlDeadline = now + check.definition.ttlNanos();
  }

  /**
   * Consul's {@code local.State.UpdateCheck}: status changes sync at once, output changes later.
   */
  private void updateStatus(CheckState check, String status, String output, long at) {
    if (CRITICAL.equals(status)) {
      if (check.criticalSince == NONE) {
        check.criticalSince = at;
      }
    } else {
      check.criticalSince = NONE;
    }
    if (check.status.equals(status) && check.output.equals(output)) {
      return;
    }
    if (check.status.equals(status)) {
      check.output = output;
      if (check.deferredSyncAt == NONE) {
        check.deferredSyncAt =
            at
                + CHECK_UPDATE_INTERVAL / 2
                + ThreadLocalRandom.current().nextLong(CHECK_UPDATE_INTERVAL);
      }
      return;
    }
    check.status = status;
    check.output = output;
    syncCheck(check);
  }

  /** Writes the check's local state to the catalog if it differs. */
  private void syncCheck(CheckState check) {
    check.deferredSyncAt = NONE;
    CatalogCheck desired = check.local();
    if (desired.equals(check.catalog)) {
      return;
    }
    long index = ++raftIndex;
    check.catalog = desired;
    check.modifyIndex = index;
    touchService(check.serviceName, index);
    changed.signalAll();
  }

  /** One round of an interval check: Consul's StatusHandler thresholds, then the update. */
  private void applyProbeResult(CheckState check, String status, String output) {
    CheckDefinition d = check.definition;
    int failuresBeforeCritical = d.failuresBeforeCritical();
    int failuresBeforeWarning =
        d.failuresBeforeWarning() == 0 ? failuresBeforeCritical : d.failuresBeforeWarning();
    long now = now();
    if (PASSING.equals(status) || WARNING.equals(status)) {
      check.successCounter++;
      check.failuresCounter = 0;
      if (check.successCounter >= d.successBeforePassing()) {
        updateStatus(check, status, output, now);
      }
    } else {
      check.failuresCounter++;
      check.successCounter = 0;
      if (check.failuresCounter >= failuresBeforeCritical) {
        updateStatus(check, status, output, now);
      } else if (check.failuresCounter >= failuresBeforeWarning) {
        updateStatus(check, WARNING, output, now);
      }
    }
  }

  /**
   * Runs TTL expiries, deferred output syncs and reaper ticks that are due on the virtual clock.
   */
  private void processDue() {
    long now = now();
    for (CheckState check : List.copyOf(checks.values())) {
      if (check.ttlDeadline != NONE && now >= check.ttlDeadline) {
        long at = check.ttlDeadline;
        check.ttlDeadline = NONE; // Consul's timer fires once; the next update re-arms it
        logger.warn("Check {} missed TTL, is now critical", check.id);
        String expired =
            check.lastOutput.isEmpty()
                ? "TTL expired"
                : "TTL expired (last output before timeout follows): " + check.lastOutput;
        updateStatus(check, CRITICAL, expired, at);
      }
    }
    for (CheckState check : List.copyOf(checks.values())) {
      if (check.deferredSyncAt != NONE && now >= check.deferredSyncAt) {
        syncCheck(check);
      }
    }
    long interval = settings.reapInterval().toNanos();
    long tick = Math.floorDiv(now, interval) * interval;
    if (tick > lastReapTick) {
      lastReapTick = tick;
      reap(tick);
    }
  }

  /** Consul's reaper: a service goes when one of its checks is critical for too long. */
  private void reap(long tick) {
    Set<String> reaped = new HashSet<>();
    for (CheckState check : List.copyOf(checks.values())) {
      if (check.reapAfter <= 0
          || check.criticalSince == NONE
          || reaped.contains(check.serviceId)
          || !services.containsKey(check.serviceId)) {
        continue;
      }
      if (tick - check.criticalSince > check.reapAfter) {
        reaped.add(check.serviceId);
        removeService(check.serviceId);
        logger.info(
            "Check {} for service {} has been critical for too long; deregistered service",
            check.id,
            check.serviceId);
      }
    }
  }

  /** Arms the timer for the next TTL expiry, output sync or reaper tick that can change state. */
  private void reschedule() {
    if (closed) {
      return;
    }
    long interval = settings.reapInterval().toNanos();
    long next = Long.MAX_VALUE;
    for (CheckState check : checks.values()) {
      if (check.ttlDeadline != NONE) {
        next = Math.min(next, check.ttlDeadline);
      }
      if (check.deferredSyncAt != NONE) {
        next = Math.min(next, check.deferredSyncAt);
      }
      if (check.reapAfter > 0 && check.criticalSince != NONE) {
        long due = check.criticalSince + check.reapAfter;
        next = Math.min(next, (Math.floorDiv(due, interval) + 1) * interval);
      }
    }
    if (wakeup != null) {
      wakeup.cancel(false);
      wakeup = null;
    }
    if (next != Long.MAX_VALUE) {
      long delay = Math.max(0, next - now());
      try {
        wakeup = scheduler.schedule(this::onWakeup, delay, TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException e) {
        // closing
      }
    }
  }

  private void onWakeup() {
    lock.lock();
    try {
      if (!closed) {
        processDue();
        reschedule();
      }
    } finally {
      lock.unlock();
    }
  }

  private void startRunner(CheckState check) {
    CheckDefinition d = check.definition;
    if (d == null || closed) {
      return;
    }
    // Consul's monitor order: TTL, HTTP, H2PING, TCP, UDP, gRPC, ...
    Supplier<CheckProbes.Result> probe;
    if (d.isTtl()) {
      return;
    } else if (d.isHttp()) {
      probe = () -> probes.http(d);
    } else if (!d.h2ping().isEmpty()) {
      return; // accepted, not run: drive it with setCheckStatus
    } else if (d.isTcp()) {
      probe = () -> probes.tcp(d);
    } else if (!d.udp().isEmpty()) {
      return;
    } else if (d.isGrpc() && settings.grpcChecks()) {
      probe = () -> probes.grpc(d);
    } else {
      return;
    }
    ProbeRunner runner = new ProbeRunner(check, probe, d.intervalNanos());
    check.runner = runner;
    // Consul staggers the first run randomly within one interval.
    runner.schedule(ThreadLocalRandom.current().nextLong(d.intervalNanos()));
  }

  private static void stopRunner(CheckState check) {
    if (check.runner != null) {
      check.runner.cancel();
      check.runner = null;
    }
  }

  private List<ServiceState> instancesOf(String name) {
    String key = key(name);
    List<ServiceState> out = new ArrayList<>();
    for (ServiceState service : services.values()) {
      if (key(service.record.name()).equals(key)) {
        out.add(service);
      }
    }
    return out;
  }

  private List<CheckState> checksOf(String serviceId) {
    List<CheckState> out = new ArrayList<>();
    for (CheckState check : checks.values()) {
      if (check.serviceId.equals(serviceId)) {
        out.add(check);
      }
    }
    out.sort(Comparator.comparing((CheckState c) -> c.id.toLowerCase(Locale.ROOT)));
    return out;
  }

  private static boolean hasTags(ServiceRecord record, List<String> tags) {
    for (String wanted : tags) {
      if (record.tags().stream().noneMatch(tag -> tag.equalsIgnoreCase(wanted))) {
        return false;
      }
    }
    return true;
  }

  private boolean nodeMetaMatches(Map<String, String> filters) {
    Map<String, @Nullable Object> meta = nodeMeta();
    for (Map.Entry<String, String> filter : filters.entrySet()) {
      if (!filter.getValue().equals(meta.get(filter.getKey()))) {
        return false;
      }
    }
    return true;
  }

  private static String key(String name) {
    return name.toLowerCase(Locale.ROOT); // Consul's service-name index is case-insensitive
  }

  private static ThreadFactory daemon(String prefix) {
    AtomicInteger count = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, prefix + "-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }

  // ---------------------------------------------------------------------------------------------
  // JSON shapes (Consul's field names and casing)

  private Map<String, @Nullable Object> nodeMeta() {
    return obj("consul-network-segment", "", "consul-version", VERSION);
  }

  private Map<String, @Nullable Object> nodeTaggedAddresses() {
    return obj(
        "lan",
        NODE_ADDRESS,
        "lan_ipv4",
        NODE_ADDRESS,
        "wan",
        NODE_ADDRESS,
        "wan_ipv4",
        NODE_ADDRESS);
  }

  private Map<String, @Nullable Object> nodeJson() {
    return obj(
        "ID",
        nodeId,
        "Node",
        settings.nodeName(),
        "Address",
        NODE_ADDRESS,
        "Datacenter",
        settings.datacenter(),
        "TaggedAddresses",
        nodeTaggedAddresses(),
        "Meta",
        nodeMeta(),
        "CreateIndex",
        NODE_INDEX,
        "ModifyIndex",
        NODE_INDEX);
  }

  private Map<String, @Nullable Object> serfJson() {
    return obj(
        "Node",
        settings.nodeName(),
        "CheckID",
        "serfHealth",
        "Name",
        "Serf Health Status",
        "Status",
        serfStatus,
        "Notes",
        "",
        "Output",
        PASSING.equals(serfStatus) ? "Agent alive and reachable" : "Agent not live or unreachable",
        "ServiceID",
        "",
        "ServiceName",
        "",
        "ServiceTags",
        List.of(),
        "Type",
        "",
        "Interval",
        "",
        "Timeout",
        "",
        "ExposedPort",
        0,
        "Definition",
        obj(),
        "CreateIndex",
        NODE_INDEX + 1,
        "ModifyIndex",
        serfModifyIndex);
  }

  private Map<String, @Nullable Object> checkJson(
      CheckState check, CatalogCheck view, long createIndex, long modifyIndex) {
    return obj(
        "Node", settings.nodeName(),
        "CheckID", check.id,
        "Name", view.name(),
        "Status", view.status(),
        "Notes", view.notes(),
        "Output", view.output(),
        "ServiceID", view.serviceId(),
        "ServiceName", view.serviceName(),
        "ServiceTags", view.serviceTags(),
        "Type", view.type(),
        "Interval", view.interval(),
        "Timeout", view.timeout(),
        "ExposedPort", 0,
        "Definition", obj(),
        "CreateIndex", createIndex,
        "ModifyIndex", modifyIndex);
  }

  private Map<String, @Nullable Object> serviceJson(ServiceState service) {
    ServiceRecord r = service.record;
    Map<String, @Nullable Object> json = new LinkedHashMap<>();
    if (!r.kind().isEmpty()) {
      json.put("Kind", r.kind());
    }
    json.put("ID", r.id());
    json.put("Service", r.name());
    json.put("Tags", r.tags());
    json.put("Address", r.address());
    if (!r.taggedAddresses().isEmpty()) {
      json.put("TaggedAddresses", taggedAddressesJson(r));
    }
    // The catalog round trip turns an empty map into null; clients must cope with both.
    json.put("Meta", r.meta().isEmpty() ? null : r.meta());
    json.put("Port", r.port());
    if (!r.socketPath().isEmpty()) {
      json.put("SocketPath", r.socketPath());
    }
    json.put("Weights", weightsJson(r));
    json.put("EnableTagOverride", r.enableTagOverride());
    json.put("Proxy", r.proxy() != null ? r.proxy() : defaultProxy());
    json.put("Connect", r.connect() != null ? r.connect() : obj());
    if (r.locality() != null) {
      json.put("Locality", r.locality());
    }
    json.put("PeerName", "");
    json.put("CreateIndex", service.createIndex);
    json.put("ModifyIndex", service.modifyIndex);
    return json;
  }

  private Map<String, @Nullable Object> catalogJson(ServiceState service) {
    ServiceRecord r = service.record;
    Map<String, @Nullable Object> json =
        obj(
            "ID", nodeId,
            "Node", settings.nodeName(),
            "Address", NODE_ADDRESS,
            "Datacenter", settings.datacenter(),
            "TaggedAddresses", nodeTaggedAddresses(),
            "NodeMeta", nodeMeta(),
            "ServiceKind", r.kind(),
            "ServiceID", r.id(),
            "ServiceName", r.name(),
            "ServiceTags", r.tags(),
            "ServiceAddress", r.address());
    if (!r.taggedAddresses().isEmpty()) {
      json.put("ServiceTaggedAddresses", taggedAddressesJson(r));
    }
    json.put("ServiceWeights", weightsJson(r));
    json.put("ServiceMeta", r.meta().isEmpty() ? null : r.meta());
    json.put("ServicePort", r.port());
    json.put("ServiceSocketPath", r.socketPath());
    json.put("ServiceEnableTagOverride", r.enableTagOverride());
    json.put("ServiceProxy", r.proxy() != null ? r.proxy() : defaultProxy());
    json.put("ServiceConnect", r.connect() != null ? r.connect() : obj());
    json.put("CreateIndex", service.createIndex);
    json.put("ModifyIndex", service.modifyIndex);
    return json;
  }

  private Map<String, @Nullable Object> agentServiceJson(ServiceRecord r) {
    Map<String, @Nullable Object> json = new LinkedHashMap<>();
    if (!r.kind().isEmpty()) {
      json.put("Kind", r.kind());
    }
    json.put("ID", r.id());
    json.put("Service", r.name());
    json.put("Tags", r.tags());
    json.put("Meta", r.meta());
    json.put("Port", r.port());
    json.put("Address", r.address());
    if (!r.socketPath().isEmpty()) {
      json.put("SocketPath", r.socketPath());
    }
    if (!r.taggedAddresses().isEmpty()) {
      json.put("TaggedAddresses", taggedAddressesJson(r));
    }
    json.put("Weights", weightsJson(r));
    json.put("EnableTagOverride", r.enableTagOverride());
    json.put("Datacenter", settings.datacenter());
    if (r.locality() != null) {
      json.put("Locality", r.locality());
    }
    return json;
  }

  private static Map<String, @Nullable Object> taggedAddressesJson(ServiceRecord r) {
    Map<String, @Nullable Object> json = new TreeMap<>();
    r.taggedAddresses()
        .forEach((k, v) -> json.put(k, obj("Address", v.address(), "Port", v.port())));
    return json;
  }

  private static Map<String, @Nullable Object> weightsJson(ServiceRecord r) {
    return obj("Passing", r.weights().passing(), "Warning", r.weights().warning());
  }

  private static Map<String, @Nullable Object> defaultProxy() {
    return obj("Mode", "", "MeshGateway", obj(), "Expose", obj());
  }

  // ---------------------------------------------------------------------------------------------
  // State records

  /** A service as the agent stores it: defaults applied, tagged addresses filled in. */
  record ServiceRecord(
      String kind,
      String id,
      String name,
      List<String> tags,
      String address,
      Map<String, ServiceDefinition.TaggedAddress> taggedAddresses,
      Map<String, String> meta,
      int port,
      String socketPath,
      ServiceDefinition.Weights weights,
      boolean enableTagOverride,
      @Nullable JsonNode proxy,
      @Nullable JsonNode connect,
      @Nullable JsonNode locality) {

    static ServiceRecord of(ServiceDefinition d, String id) {
      Map<String, ServiceDefinition.TaggedAddress> tagged = new TreeMap<>(d.taggedAddresses());
      // Consul adds lan/wan tagged addresses for an IP-literal service address.
      String family = ipFamily(d.address());
      if (family != null) {
        ServiceDefinition.TaggedAddress self =
            new ServiceDefinition.TaggedAddress(d.address(), d.port());
        tagged.putIfAbsent("lan_" + family, self);
        tagged.putIfAbsent("wan_" + family, self);
      }
      return new ServiceRecord(
          d.kind(),
          id,
          d.name(),
          d.tags(),
          d.address(),
          Map.copyOf(tagged),
          d.meta() == null ? Map.of() : Map.copyOf(d.meta()),
          d.port(),
          d.socketPath(),
          d.weights() == null ? new ServiceDefinition.Weights(1, 1) : d.weights(),
          d.enableTagOverride(),
          d.proxy(),
          d.connect(),
          d.locality());
    }

    private static @Nullable String ipFamily(String address) {
      if (address.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
        for (String part : address.split("\\.")) {
          if (Integer.parseInt(part) > 255) {
            return null;
          }
        }
        return "ipv4";
      }
      if (address.contains(":") && address.matches("[0-9A-Fa-f:.]+")) {
        return "ipv6";
      }
      return null;
    }
  }

  /** The fields of a check that the catalog stores and compares. */
  record CatalogCheck(
      String name,
      String status,
      String output,
      String notes,
      String serviceId,
      String serviceName,
      List<String> serviceTags,
      String type,
      String interval,
      String timeout) {}

  private static final class ServiceState {
    final ServiceRecord record;
    final long createIndex;
    final long modifyIndex;

    ServiceState(ServiceRecord record, long createIndex, long modifyIndex) {
      this.record = record;
      this.createIndex = createIndex;
      this.modifyIndex = modifyIndex;
    }
  }

  private static final class CheckState {
    final String id;
    final String serviceId;
    final String serviceName;
    final List<String> serviceTags;
    final String name;
    final String notes;
    final String type;
    final String interval;
    final String timeout;
    final @Nullable CheckDefinition definition;

    String status = CRITICAL;
    String output = "";
    CatalogCheck catalog;
    long createIndex;
    long modifyIndex;
    long ttlDeadline = NONE;
    String lastOutput = "";
    long reapAfter;
    long criticalSince = NONE;
    long deferredSyncAt = NONE;
    int successCounter;
    int failuresCounter;
    @Nullable ProbeRunner runner;

    CheckState(
        String id,
        ServiceRecord service,
        String name,
        String notes,
        @Nullable CheckDefinition definition) {
      this.id = id;
      this.serviceId = service.id();
      this.serviceName = service.name();
      this.serviceTags = service.tags();
      this.name = name;
      this.notes = notes;
      this.definition = definition;
      this.type = definition == null ? "maintenance" : definition.type();
      this.interval =
          definition == null || definition.intervalNanos() <= 0
              ? ""
              : GoDuration.format(definition.intervalNanos());
      this.timeout =
          definition == null || definition.timeoutNanos() <= 0
              ? ""
              : GoDuration.format(definition.timeoutNanos());
      this.catalog = local();
    }

    CatalogCheck local() {
      return new CatalogCheck(
          name,
          status,
          output,
          notes,
          serviceId,
          serviceName,
          serviceTags,
          type,
          interval,
          timeout);
    }
  }

  /** Runs one interval check: first after a random stagger, then every interval after a run. */
  private final class ProbeRunner implements Runnable {
    private final CheckState check;
    private final Supplier<CheckProbes.Result> probe;
    private final long intervalNanos;
    private volatile boolean cancelled;
    private volatile @Nullable ScheduledFuture<?> next;

    ProbeRunner(CheckState check, Supplier<CheckProbes.Result> probe, long intervalNanos) {
      this.check = check;
      this.probe = probe;
      this.intervalNanos = intervalNanos;
    }

    void schedule(long delayNanos) {
      if (cancelled) {
        return;
      }
      try {
        next =
            scheduler.schedule(
                () -> {
                  try {
                    probeExecutor.execute(this);
                  } catch (RejectedExecutionException e) {
                    // closing
                  }
                },
                delayNanos,
                TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException e) {
        // closing
      }
    }

    @Override
    public void run() {
      if (cancelled) {
        return;
      }
      CheckProbes.Result result;
      try {
        result = probe.get();
      } catch (RuntimeException e) {
        result = new CheckProbes.Result(CRITICAL, String.valueOf(e));
      }
      lock.lock();
      try {
        if (cancelled || closed || checks.get(check.id) != check) {
          return;
        }
        applyProbeResult(check, result.status(), result.output());
        reschedule();
      } finally {
        lock.unlock();
      }
      schedule(intervalNanos);
    }

    void cancel() {
      cancelled = true;
      ScheduledFuture<?> future = next;
      if (future != null) {
        future.cancel(false);
      }
    }
  }
}
