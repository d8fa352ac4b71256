package dev.chassis.testing.consul;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** TTL checks, the passing and tag filters, and blocking queries. */
class ConsulDoubleHealthTest {

  private ConsulDouble consul;
  private RawConsul http;

  @BeforeEach
  void start() {
    consul = ConsulDouble.newBuilder().jitter(false).start();
    http = new RawConsul(consul.address());
  }

  @AfterEach
  void stop() {
    consul.close();
  }

  private void registerTtl(String id, String name, String... tags) {
    String tagJson = tags.length == 0 ? "[]" : "[\"" + String.join("\",\"", tags) + "\"]";
    RawConsul.Reply reply =
        http.put(
            "/v1/agent/service/register",
            "{\"Name\":\""
                + name
                + "\",\"ID\":\""
                + id
                + "\",\"Port\":80,\"Tags\":"
                + tagJson
                + ",\"Check\":{\"CheckID\":\""
                + id
                + "-ttl\",\"TTL\":\"10s\"}}");
    assertThat(reply.status()).as(reply.body()).isEqualTo(200);
  }

  private static List<String> ids(JsonNode entries) {
    List<String> ids = new ArrayList<>();
    entries.forEach(entry -> ids.add(entry.get("Service").get("ID").asText()));
    return ids;
  }

  // --- TTL -------------------------------------------------------------------------------------

  @Test
  void ttlUpdates_setStatusAndOutput_andTheirErrorsFollowConsul() {
    registerTtl("a-1", "a");
    http.put(
        "/v1/agent/service/register",
        "{\"Name\":\"g\",\"Check\":{\"GRPC\":\"127.0.0.1:1\",\"Interval\":\"1h\"}}");

    assertThat(http.put("/v1/agent/check/warn/a-1-ttl?note=slow", "").status()).isEqualTo(200);
    assertThat(consul.check("a-1-ttl").orElseThrow().status()).isEqualTo("warning");
    assertThat(consul.check("a-1-ttl").orElseThrow().output()).isEqualTo("slow");
    http.put("/v1/agent/check/fail/a-1-ttl", "");
    assertThat(consul.check("a-1-ttl").orElseThrow().status()).isEqualTo("critical");
    RawConsul.Reply update =
        http.put(
            "/v1/agent/check/update/a-1-ttl", "{\"Status\":\"passing\",\"Output\":\"all good\"}");
    assertThat(update.status()).isEqualTo(200);
    assertThat(consul.check("a-1-ttl").orElseThrow().output()).isEqualTo("all good");

    RawConsul.Reply unknown = http.put("/v1/agent/check/pass/nope", "");
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.body())
        .isEqualTo(
            "Unknown check ID \"nope\". Ensure that the check ID is passed, not the check name.");
    RawConsul.Reply notTtl = http.put("/v1/agent/check/pass/service:g", "");
    assertThat(notTtl.status()).isEqualTo(500);
    assertThat(notTtl.body()).isEqualTo("CheckID \"service:g\" does not have associated TTL");
    RawConsul.Reply badStatus =
        http.put("/v1/agent/check/update/a-1-ttl", "{\"Status\":\"bogus\"}");
    assertThat(badStatus.status()).isEqualTo(400);
    assertThat(badStatus.body()).isEqualTo("Invalid check status: 'bogus'");
  }

  @Test
  void ttlExpiry_onTheVirtualClock_turnsCriticalWithConsulsOutput() {
    registerTtl("a-1", "a");
    registerTtl("b-1", "b");
    http.put("/v1/agent/check/pass/a-1-ttl?note=all%20good", "");
    http.put("/v1/agent/check/pass/b-1-ttl", "");

    consul.advanceTime(Duration.ofSeconds(5)); // the clock also runs in real time: keep a margin

    assertThat(consul.check("a-1-ttl").orElseThrow().status()).isEqualTo("passing");

    consul.advanceTime(Duration.ofSeconds(6));

    ConsulDouble.Check a = consul.check("a-1-ttl").orElseThrow();
    assertThat(a.status()).isEqualTo("critical");
    assertThat(a.output()).isEqualTo("TTL expired (last output before timeout follows): all good");
    assertThat(consul.check("b-1-ttl").orElseThrow().output()).isEqualTo("TTL expired");
    assertThat(http.get("/v1/health/service/a?passing").json()).isEmpty();
  }

  @Test
  void ttlPass_bumpsTheIndexOnlyWhenTheStatusChanges() {
    http.put(
        "/v1/agent/service/register",
        "{\"Name\":\"a\",\"ID\":\"a-1\",\"Check\":{\"CheckID\":\"a-1-ttl\",\"TTL\":\"1h\"}}");
    long registered = http.get("/v1/health/service/a").index();

    http.put("/v1/agent/check/pass/a-1-ttl?note=one", "");
    long passed = http.get("/v1/health/service/a").index();
    http.put("/v1/agent/check/pass/a-1-ttl?note=two", "");
    RawConsul.Reply again = http.get("/v1/health/service/a");

    assertThat(passed).isGreaterThan(registered);
    assertThat(again.index()).isEqualTo(passed);
    // The catalog keeps the old output until the agent's deferred write-back...
    assertThat(again.json().get(0).get("Checks").get(1).get("Output").asText()).isEqualTo("one");
    // ...while the agent's own view is current.
    assertThat(http.get("/v1/agent/checks").json().get("a-1-ttl").get("Output").asText())
        .isEqualTo("two");

    consul.advanceTime(Duration.ofMinutes(8)); // past Consul's write-back (2.5 to 7.5 min)

    RawConsul.Reply written = http.get("/v1/health/service/a");
    assertThat(written.index()).isGreaterThan(passed);
    assertThat(written.json().get(0).get("Checks").get(1).get("Output").asText()).isEqualTo("two");
    assertThat(written.json().get(0).get("Checks").get(1).get("Status").asText())
        .isEqualTo("passing");
  }

  // --- filters ---------------------------------------------------------------------------------

  @Test
  void passing_dropsAnEntryIfAnyCheckIsNotPassing_warningAndNodeHealthIncluded() {
    registerTtl("a-1", "a");
    registerTtl("a-2", "a");
    registerTtl("a-3", "a");
    http.put("/v1/agent/check/pass/a-1-ttl", "");
    http.put("/v1/agent/check/warn/a-2-ttl", "");

    assertThat(ids(http.get("/v1/health/service/a").json())).containsExactly("a-1", "a-2", "a-3");
    assertThat(ids(http.get("/v1/health/service/a?passing").json())).containsExactly("a-1");
    assertThat(ids(http.get("/v1/health/service/a?passing=true").json())).containsExactly("a-1");
    assertThat(ids(http.get("/v1/health/service/a?passing=1").json())).containsExactly("a-1");
    assertThat(ids(http.get("/v1/health/service/a?passing=false").json())).hasSize(3);
    RawConsul.Reply invalid = http.get("/v1/health/service/a?passing=yes");
    assertThat(invalid.status()).isEqualTo(400);
    assertThat(invalid.body()).isEqualTo("Invalid value for ?passing");

    consul.setNodeHealth("critical");

    assertThat(http.get("/v1/health/service/a?passing").json()).isEmpty();
    JsonNode serf = http.get("/v1/health/service/a").json().get(0).get("Checks").get(0);
    assertThat(serf.get("CheckID").asText()).isEqualTo("serfHealth");
    assertThat(serf.get("Status").asText()).isEqualTo("critical");
  }

  @Test
  void tagFilter_requiresEveryTagCaseInsensitively() {
    registerTtl("a-1", "a", "grpc", "v2");
    registerTtl("a-2", "a", "grpc");

    assertThat(ids(http.get("/v1/health/service/a?tag=GRPC").json())).containsExactly("a-1", "a-2");
    assertThat(ids(http.get("/v1/health/service/a?tag=grpc&tag=v2").json())).containsExactly("a-1");
    JsonNode catalog = http.get("/v1/catalog/service/a?tag=v2").json();
    assertThat(catalog).hasSize(1);
    assertThat(catalog.get(0).get("ServiceID").asText()).isEqualTo("a-1");
    assertThat(catalog.get(0).get("ServiceTags").get(1).asText()).isEqualTo("v2");
  }

  @Test
  void unknownService_isAnEmptyListWithAValidIndex() {
    RawConsul.Reply reply = http.get("/v1/health/service/nothing-here");

    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.body()).isEqualTo("[]");
    assertThat(reply.index()).isPositive();
    assertThat(reply.headers().firstValue("X-Consul-Knownleader")).hasValue("true");
    assertThat(reply.headers().firstValue("Content-Type")).hasValue("application/json");
  }

  @Test
  void queryParameterErrors_followConsul() {
    assertThat(http.get("/v1/health/service/a?wait=soon&index=1").body())
        .isEqualTo("Invalid wait time");
    assertThat(http.get("/v1/health/service/a?index=-1").body()).isEqualTo("Invalid index");
    assertThat(http.get("/v1/health/service/a?stale&consistent").body())
        .isEqualTo("Cannot specify ?stale with ?consistent, conflicting semantics.");
    assertThat(http.get("/v1/health/service/a?dc=elsewhere").status()).isEqualTo(500);
    assertThat(http.get("/v1/health/service/a?dc=elsewhere").body())
        .isEqualTo("No path to datacenter");
    assertThat(http.get("/v1/health/service/a?filter=Service.Port%3D%3D1").status()).isEqualTo(400);
    assertThat(http.get("/v1/health/service/").body()).isEqualTo("Missing service name");
    assertThat(
            http.get("/v1/health/service/a?stale")
                .headers()
                .firstValue("X-Consul-Effective-Consistency"))
        .hasValue("stale");
  }

  // --- blocking --------------------------------------------------------------------------------

  @Test
  void blocking_indexZeroOrBehind_returnsAtOnce() {
    registerTtl("a-1", "a");
    long index = http.get("/v1/health/service/a").index();

    long start = System.nanoTime();
    RawConsul.Reply zero = http.get("/v1/health/service/a?index=0&wait=20s");
    RawConsul.Reply behind = http.get("/v1/health/service/a?index=" + (index - 1) + "&wait=20s");

    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    assertThat(zero.index()).isEqualTo(index);
    assertThat(behind.index()).isEqualTo(index);
  }

  @Test
  void blocking_waitsForAChangeOfTheService() throws Exception {
    registerTtl("a-1", "a");
    long index = http.get("/v1/health/service/a?passing").index();
    CompletableFuture<RawConsul.Reply> watch =
        http.sendAsync("GET", "/v1/health/service/a?passing&index=" + index + "&wait=20s", "");
    awaitBlocked("/v1/health/service/a");

    assertThat(watch).isNotDone();

    http.put("/v1/agent/check/pass/a-1-ttl", "");

    RawConsul.Reply reply = watch.get(10, TimeUnit.SECONDS);
    assertThat(reply.index()).isGreaterThan(index);
    assertThat(ids(reply.json())).containsExactly("a-1");
  }

  @Test
  void blocking_onTheCatalogEndpoint_seesRegistrations() throws Exception {
    long index = http.get("/v1/catalog/service/a").index();
    CompletableFuture<RawConsul.Reply> watch =
        http.sendAsync("GET", "/v1/catalog/service/a?index=" + index + "&wait=20s", "");
    awaitBlocked("/v1/catalog/service/a");

    registerTtl("a-1", "a");

    RawConsul.Reply reply = watch.get(10, TimeUnit.SECONDS);
    assertThat(reply.index()).isGreaterThan(index);
    assertThat(reply.json().get(0).get("ServiceID").asText()).isEqualTo("a-1");
  }

  @Test
  void blocking_timesOutWithTheSameIndexAndBody() {
    registerTtl("a-1", "a");
    RawConsul.Reply first = http.get("/v1/health/service/a");

    long start = System.nanoTime();
    RawConsul.Reply reply = http.get("/v1/health/service/a?index=" + first.index() + "&wait=1s");

    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .isGreaterThanOrEqualTo(Duration.ofMillis(950));
    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.index()).isEqualTo(first.index());
    assertThat(reply.body()).isEqualTo(first.body());
  }

  @Test
  void blocking_wakesSpuriouslyOnChangesThatDoNotAlterThePassingResult() throws Exception {
    registerTtl("a-1", "a");
    registerTtl("a-2", "a");
    http.put("/v1/agent/check/pass/a-1-ttl", "");
    RawConsul.Reply before = http.get("/v1/health/service/a?passing");
    CompletableFuture<RawConsul.Reply> watch =
        http.sendAsync(
            "GET", "/v1/health/service/a?passing&index=" + before.index() + "&wait=20s", "");
    awaitBlocked("/v1/health/service/a");

    http.put("/v1/agent/check/warn/a-2-ttl", ""); // critical -> warning: still not passing

    RawConsul.Reply reply = watch.get(10, TimeUnit.SECONDS);
    assertThat(reply.index()).isGreaterThan(before.index());
    assertThat(reply.body()).isEqualTo(before.body());
  }

  @Test
  void blocking_ignoresChangesToOtherServices() {
    registerTtl("a-1", "a");
    registerTtl("b-1", "b");
    long index = http.get("/v1/health/service/a").index();
    CompletableFuture<RawConsul.Reply> watch =
        http.sendAsync("GET", "/v1/health/service/a?index=" + index + "&wait=1s", "");
    awaitBlocked("/v1/health/service/a");

    http.put("/v1/agent/check/pass/b-1-ttl", "");

    RawConsul.Reply reply = watch.join();
    assertThat(reply.index()).isEqualTo(index);
    assertThat(consul.index()).isGreaterThan(index);
  }

  @Test
  void blocking_onAnAbsentService_wakesWhenAnotherServiceGoesExtinct() throws Exception {
    registerTtl("b-1", "b");
    long index = http.get("/v1/health/service/absent").index();
    CompletableFuture<RawConsul.Reply> watch =
        http.sendAsync("GET", "/v1/health/service/absent?index=" + index + "&wait=20s", "");
    awaitBlocked("/v1/health/service/absent");

    http.put("/v1/agent/service/deregister/b-1", "");

    RawConsul.Reply reply = watch.get(10, TimeUnit.SECONDS);
    assertThat(reply.index()).isGreaterThan(index);
    assertThat(reply.body()).isEqualTo("[]");
  }

  @Test
  void blocking_clientIndexAhead_waitsTheFullTimeAndReturnsTheLowerIndex() {
    registerTtl("a-1", "a");
    long index = http.get("/v1/health/service/a").index();

    long start = System.nanoTime();
    RawConsul.Reply reply = http.get("/v1/health/service/a?index=" + (index + 1000) + "&wait=1s");

    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .isGreaterThanOrEqualTo(Duration.ofMillis(950));
    assertThat(reply.index()).isEqualTo(index);
  }

  @Test
  void blocking_longPollsDoNotStarveOtherRequests() {
    registerTtl("a-1", "a");
    long index = http.get("/v1/health/service/a").index();
    List<CompletableFuture<RawConsul.Reply>> polls = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      polls.add(http.sendAsync("GET", "/v1/health/service/a?index=" + index + "&wait=20s", ""));
    }

    assertThat(http.get("/v1/status/leader").status()).isEqualTo(200);
    http.put("/v1/agent/check/pass/a-1-ttl", "");

    for (CompletableFuture<RawConsul.Reply> poll : polls) {
      assertThat(poll.join().index()).isGreaterThan(index);
    }
  }

  @Test
  void indexHeader_isAtLeastOne_andCanBeOmittedOnPurpose() {
    assertThat(http.get("/v1/catalog/service/a").index()).isPositive();

    consul.omitIndexHeader(true);

    assertThat(http.get("/v1/health/service/a").headers().firstValue("X-Consul-Index")).isEmpty();
  }

  @Test
  void forgetEverything_dropsStateAndTheIndexGoesBackwards() {
    registerTtl("a-1", "a");
    http.put("/v1/agent/check/pass/a-1-ttl", "");
    long before = http.get("/v1/health/service/a").index();

    consul.forgetEverything();

    RawConsul.Reply after = http.get("/v1/health/service/a");
    assertThat(after.body()).isEqualTo("[]");
    assertThat(after.index()).isLessThan(before).isPositive();
    assertThat(consul.instances("a")).isEmpty();
    assertThat(consul.index()).isLessThan(before);
  }

  private void awaitBlocked(String path) {
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                consul.requests().stream()
                    .anyMatch(r -> r.path().equals(path) && r.rawQuery().contains("index=")));
  }
}
