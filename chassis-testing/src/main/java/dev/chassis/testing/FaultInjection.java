package dev.chassis.testing;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import dev.chassis.ChassisConfig;
import dev.chassis.ChassisConfigException;
import dev.chassis.internal.config.ConfigReader;
import dev.chassis.internal.grpc.FailedClientCall;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delays and/or aborts a chosen percentage of calls to chosen methods, for resilience tests and,
 * behind {@code chassis.fault-injection.enabled} (off by default), in a staging deployment.
 *
 * <p>A rule picks methods by pattern: {@code "pkg.Service/Method"}, {@code "pkg.Service/*"} or
 * {@code "*"}. Each call rolls the dice against its rules: for each kind of fault (delay, abort)
 * the most specific matching rule decides (an exact method over {@code Service/*} over {@code *};
 * among equally specific rules the first added), so {@code abort("pkg.S/Health", 0, ...)} exempts
 * one method from a {@code "*"} rule. A call may be both delayed and then aborted. Aborted calls
 * end with the chosen code and the description {@value #DESCRIPTION}.
 *
 * <ul>
 *   <li>{@link #serverInterceptor()}: an abort closes the call before the handler runs; a delay
 *       starts the handler after it. Unary and server-streaming calls wait on a timer, holding no
 *       thread; client- and bidi-streaming calls wait on the handler executor thread (grpc's
 *       transport threads are never blocked). A call cancelled during the delay never reaches the
 *       handler. Add it with {@code ChassisServer.Builder.intercept}, inside the Chassis chain.
 *   <li>{@link #clientInterceptor()}: an abort fails the call without touching the network; a delay
 *       starts it later, without blocking the caller. The delay ends early at the call's deadline.
 * </ul>
 *
 * <pre>{@code
 * FaultInjection faults =
 *     FaultInjection.newBuilder()
 *         .abort("user.v1.UserService/GetUser", 50, Status.Code.UNAVAILABLE)
 *         .delay("user.v1.UserService/*", 10, Duration.ofMillis(300))
 *         .random(new Random(42))
 *         .build();
 * ChassisServer.newBuilder(config).addService(users).intercept(faults.serverInterceptor());
 * Channel flaky = ClientInterceptors.intercept(channel, faults.clientInterceptor());
 * }</pre>
 *
 * <p>Immutable and thread-safe; the interceptors may be shared by any number of servers and
 * channels.
 */
public final class FaultInjection {
  /** The description of the status of every aborted call. */
  public static final String DESCRIPTION = "fault injected";

  private static final Logger logger = LoggerFactory.getLogger(FaultInjection.class);
  private static final String SECTION = "chassis.fault-injection";
  private static final Set<String> RULE_KEYS = Set.of("method", "percent", "abort", "delay");
  private static final String RULE_EXPECTED =
      "a rule such as { method = \"*\", percent = 10, abort = UNAVAILABLE, delay = 100ms }";
  private static final Executor DIRECT = Runnable::run;
  private static final FaultInjection DISABLED = new FaultInjection(List.of(), null);

  private final List<FaultRule> rules;
  private final @Nullable RandomGenerator random;
  private final Object randomLock = new Object();
  private final ServerInterceptor serverInterceptor;
  private final ClientInterceptor clientInterceptor;

  private FaultInjection(List<FaultRule> rules, @Nullable RandomGenerator random) {
    List<FaultRule> bySpecificity = new ArrayList<>(rules);
    // Stable: among equally specific rules the first added decides.
    bySpecificity.sort(Comparator.comparingInt(FaultRule::specificity).reversed());
    this.rules = List.copyOf(bySpecificity);
    this.random = random;
    if (this.rules.isEmpty()) {
      this.serverInterceptor = PassThroughServer.INSTANCE;
      this.clientInterceptor = PassThroughClient.INSTANCE;
    } else {
      this.serverInterceptor = new InjectingServer();
      this.clientInterceptor = new InjectingClient();
    }
  }

  /** Starts building a fault injection; with no rules its interceptors do nothing. */
  public static Builder newBuilder() {
    return new Builder();
  }

  /**
   * A fault injection that injects nothing: its interceptors hand every call straight on and cost
   * nothing per call.
   */
  public static FaultInjection disabled() {
    return DISABLED;
  }

  /**
   * Reads {@code chassis.fault-injection}: when {@code enabled = false} (the default) the result is
   * {@link #disabled()}; otherwise it injects the faults of {@code rules} and logs a warning once.
   * The rules are validated either way, so a mistake shows before anyone enables them.
   *
   * <pre>{@code
   * chassis.fault-injection {
   *   enabled = true
   *   rules = [
   *     { method = "user.v1.UserService/*", percent = 5, abort = UNAVAILABLE }
   *     { method = "*", percent = 10, delay = 200ms }
   *   ]
   * }
   * }</pre>
   *
   * @throws ChassisConfigException naming the key, such as {@code
   *     chassis.fault-injection.rules[0].percent}, when a value is invalid
   */
  public static FaultInjection fromConfig(ChassisConfig config) {
    ConfigReader root = ConfigReader.of(config.raw());
    if (!root.has(SECTION)) {
      return DISABLED;
    }
    ConfigReader section;
    try {
      section = root.at(SECTION);
    } catch (ConfigException e) {
      throw root.invalid(SECTION, "an object with enabled and rules", e);
    }
    boolean enabled = section.bool("enabled");
    List<FaultRule> rules = readRules(section);
    if (!enabled || rules.isEmpty()) {
      return DISABLED;
    }
    FaultInjection injection = new FaultInjection(rules, null);
    logger.warn(
        "fault injection is ON: {} ({}.enabled = true; calls are delayed and failed on purpose)",
        injection.rules,
        SECTION);
    return injection;
  }

  private static List<FaultRule> readRules(ConfigReader section) {
    ConfigList list;
    try {
      list = section.config().getList("rules");
    } catch (ConfigException e) {
      throw section.invalid("rules", "a list of rules such as [ " + RULE_EXPECTED + " ]", e);
    }
    List<FaultRule> rules = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      String key = section.key("rules[" + i + "]");
      ConfigValue value = list.get(i);
      if (!(value instanceof ConfigObject object)) {
        throw new ChassisConfigException(
            key
                + ": "
                + value.render().trim()
                + " ("
                + value.origin().description()
                + ") (expected: "
                + RULE_EXPECTED
                + ")");
      }
      rules.add(readRule(ConfigReader.of(object.toConfig(), key), object.keySet()));
    }
    return rules;
  }

  private static FaultRule readRule(ConfigReader rule, Set<String> keys) {
    for (String key : keys) {
      if (!RULE_KEYS.contains(key)) {
        throw rule.invalid(key, "only method, percent, abort and delay in a rule", null);
      }
    }
    String method = rule.has("method") ? rule.string("method").trim() : null;
    if (!FaultRule.isValidPattern(method)) {
      throw rule.invalid("method", FaultRule.PATTERN_EXPECTED, null);
    }
    if (!rule.has("percent")) {
      throw rule.invalid("percent", "a number in " + FaultRule.PERCENT_EXPECTED, null);
    }
    double percent = rule.number("percent", 0.0, 100.0);
    Status.Code abort = null;
    String code = rule.optionalString("abort");
    if (code != null) {
      try {
        abort = Status.Code.valueOf(code.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw rule.invalid("abort", FaultRule.ABORT_EXPECTED, e);
      }
      if (abort == Status.Code.OK) {
        throw rule.invalid("abort", FaultRule.ABORT_EXPECTED, null);
      }
    }
    Duration delay = null;
    if (rule.has("delay")) {
      delay = rule.duration("delay", false);
      if (!FaultRule.isValidDelay(delay)) {
        throw rule.invalid("delay", FaultRule.DELAY_EXPECTED, null);
      }
    }
    if (abort == null && delay == null) {
      throw rule.invalid(
          "abort", "a status code such as UNAVAILABLE, or a delay, in each rule", null);
    }
    return new FaultRule(method, percent, delay, abort);
  }

  /**
   * The server side: aborts or delays matching calls before their handler runs. When nothing is
   * configured it returns {@code next.startCall(call, headers)} and does nothing else.
   */
  public ServerInterceptor serverInterceptor() {
    return serverInterceptor;
  }

  /**
   * The client side: fails matching calls without touching the network, or starts them late. When
   * nothing is configured it returns {@code next.newCall(method, callOptions)} and does nothing
   * else.
   */
  public ClientInterceptor clientInterceptor() {
    return clientInterceptor;
  }

  /** Whether any fault can be injected; false for {@link #disabled()} and for no rules. */
  public boolean isEnabled() {
    return !rules.isEmpty();
  }

  /** The rules, for logs: for example {@code FaultInjection[50.0% of *: abort UNAVAILABLE]}. */
  @Override
  public String toString() {
    return rules.isEmpty() ? "FaultInjection[disabled]" : "FaultInjection" + rules;
  }

  /** What happens to one call: a delay (0 for none) and an abort status (null for none). */
  private record Decision(long delayNanos, @Nullable Status abort) {}

  private @Nullable Decision decide(String fullMethodName) {
    FaultRule delayRule = null;
    FaultRule abortRule = null;
    boolean delayDecided = false;
    boolean abortDecided = false;
    for (FaultRule rule : rules) {
      boolean decidesDelay = !delayDecided && rule.delay() != null;
      boolean decidesAbort = !abortDecided && rule.abort() != null;
      if ((!decidesDelay && !decidesAbort) || !rule.matches(fullMethodName)) {
        continue;
      }
      // One roll per rule: a rule with both a delay and an abort delays, then fails, the call.
      boolean fires = roll(rule.percent());
      if (decidesDelay) {
        delayDecided = true;
        delayRule = fires ? rule : null;
      }
      if (decidesAbort) {
        abortDecided = true;
        abortRule = fires ? rule : null;
      }
      if (delayDecided && abortDecided) {
        break;
      }
    }
    if (delayRule == null && abortRule == null) {
      return null;
    }
    Duration delay = delayRule == null ? null : delayRule.delay();
    Status.Code code = abortRule == null ? null : abortRule.abort();
    return new Decision(
        delay == null ? 0 : delay.toNanos(),
        code == null ? null : Status.fromCode(code).withDescription(DESCRIPTION));
  }

  private boolean roll(double percent) {
    if (percent <= 0.0) {
      return false;
    }
    if (percent >= 100.0) {
      return true;
    }
    double draw;
    RandomGenerator generator = random;
    if (generator == null) {
      draw = ThreadLocalRandom.current().nextDouble();
    } else {
      // A given generator need not be thread-safe (SplittableRandom); calls roll concurrently.
      synchronized (randomLock) {
        draw = generator.nextDouble();
      }
    }
    return draw * 100.0 < percent;
  }

  private final class InjectingServer implements ServerInterceptor {
    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
        ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
      MethodDescriptor<ReqT, RespT> method = call.getMethodDescriptor();
      Decision decision = decide(method.getFullMethodName());
      if (decision == null) {
        return next.startCall(call, headers);
      }
      if (decision.delayNanos() == 0) {
        return abort(call, decision.abort());
      }
      if (method.getType().clientSendsOneMessage()) {
        return FaultDelayedServerListener.delay(
            call, headers, next, decision.delayNanos(), decision.abort());
      }
      return waitThenStart(call, headers, next, decision);
    }
  }

  /**
   * Client- and bidi-streaming calls: the client may wait for the server before sending anything,
   * so there is no callback to resume on; wait here, on the handler executor thread, until the
   * delay ends or the call is cancelled.
   */
  private static <ReqT, RespT> ServerCall.Listener<ReqT> waitThenStart(
      ServerCall<ReqT, RespT> call,
      Metadata headers,
      ServerCallHandler<ReqT, RespT> next,
      Decision decision) {
    Context context = Context.current();
    CountDownLatch cancelled = new CountDownLatch(1);
    Context.CancellationListener onCancel = c -> cancelled.countDown();
    context.addListener(onCancel, DIRECT);
    try {
      if (cancelled.await(decision.delayNanos(), TimeUnit.NANOSECONDS)) {
        return new ServerCall.Listener<>() {};
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      context.removeListener(onCancel);
    }
    Status abort = decision.abort();
    return abort == null ? next.startCall(call, headers) : abort(call, abort);
  }

  private static <ReqT> ServerCall.Listener<ReqT> abort(
      ServerCall<ReqT, ?> call, @Nullable Status status) {
    call.close(Objects.requireNonNull(status), new Metadata());
    return new ServerCall.Listener<>() {};
  }

  private final class InjectingClient implements ClientInterceptor {
    @Override
    public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
        MethodDescriptor<ReqT, RespT> method, CallOptions callOptions, Channel next) {
      Decision decision = decide(method.getFullMethodName());
      if (decision == null) {
        return next.newCall(method, callOptions);
      }
      Context context = Context.current();
      Executor executor =
          callOptions.getExecutor() != null ? callOptions.getExecutor() : FaultTimer.callbacks();
      Status abort = decision.abort();
      if (decision.delayNanos() == 0) {
        return new FailedClientCall<>(Objects.requireNonNull(abort), executor, context);
      }
      // Created now, on the caller's thread and context, as an undelayed call would be.
      ClientCall<ReqT, RespT> real = abort == null ? next.newCall(method, callOptions) : null;
      return new FaultDelayedClientCall<>(
          real,
          abort,
          decision.delayNanos(),
          earlier(callOptions.getDeadline(), context.getDeadline()),
          executor,
          context);
    }
  }

  private static @Nullable Deadline earlier(@Nullable Deadline a, @Nullable Deadline b) {
    if (a == null) {
      return b;
    }
    return b == null || a.isBefore(b) ? a : b;
  }

  private enum PassThroughServer implements ServerInterceptor {
    INSTANCE;

    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
        ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
      return next.startCall(call, headers);
    }
  }

  private enum PassThroughClient implements ClientInterceptor {
    INSTANCE;

    @Override
    public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
        MethodDescriptor<ReqT, RespT> method, CallOptions callOptions, Channel next) {
      return next.newCall(method, callOptions);
    }
  }

  /** Builds a {@link FaultInjection}; each method validates its arguments at once. */
  public static final class Builder {
    private final List<FaultRule> rules = new ArrayList<>();
    private @Nullable RandomGenerator random;

    private Builder() {}

    /**
     * Delays {@code percent} of the calls to methods matching {@code methodPattern} by {@code
     * delay}.
     *
     * @param methodPattern {@code "pkg.Service/Method"}, {@code "pkg.Service/*"} or {@code "*"}
     * @param percent 0..100
     * @param delay more than zero, at most one hour
     * @throws IllegalArgumentException naming the invalid argument, such as {@code percent: 150.0
     *     (expected: 0..100)}
     */
    public Builder delay(String methodPattern, double percent, Duration delay) {
      rules.add(
          new FaultRule(methodPattern, percent, Objects.requireNonNull(delay, "delay"), null));
      return this;
    }

    /**
     * Fails {@code percent} of the calls to methods matching {@code methodPattern} with {@code
     * code} and the description {@value FaultInjection#DESCRIPTION}.
     *
     * @param methodPattern {@code "pkg.Service/Method"}, {@code "pkg.Service/*"} or {@code "*"}
     * @param percent 0..100
     * @param code any code but {@code OK}
     * @throws IllegalArgumentException naming the invalid argument
     */
    public Builder abort(String methodPattern, double percent, Status.Code code) {
      rules.add(new FaultRule(methodPattern, percent, null, Objects.requireNonNull(code, "code")));
      return this;
    }

    /**
     * Rolls the dice with {@code random} (for example a seeded {@link java.util.Random}) instead of
     * {@link ThreadLocalRandom}, so a test sees the same faults on every run when its calls arrive
     * in the same order. Need not be thread-safe: it is used under a lock.
     */
    public Builder random(RandomGenerator random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /** Builds the fault injection; with no rules, one whose interceptors do nothing. */
    public FaultInjection build() {
      if (rules.isEmpty()) {
        return DISABLED;
      }
      FaultInjection injection = new FaultInjection(rules, random);
      logger.debug("fault injection built: {}", injection.rules);
      return injection;
    }
  }
}
