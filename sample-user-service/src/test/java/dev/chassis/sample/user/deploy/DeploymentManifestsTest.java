package dev.chassis.sample.user.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.typesafe.config.ConfigFactory;
import dev.chassis.ChassisConfig;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps the deployment artifacts in {@code deploy/} consistent with each other and with the
 * configuration the jar really runs with: ports, probe targets, the drain timeline, selectors, the
 * non-root user. It only reads files (no network, no Docker, no kubectl); surefire runs it with the
 * module directory as working directory.
 */
class DeploymentManifestsTest {
  private static final Path DEPLOY = Path.of("deploy");
  private static final Path KUBERNETES = DEPLOY.resolve("kubernetes");
  private static final Path DOCKERFILE = DEPLOY.resolve("Dockerfile");

  /** Kustomize's own file: not a Kubernetes object. */
  private static final String KUSTOMIZATION = "kustomization.yaml";

  /** Placeholder Secrets documenting the expected shape; never applied. */
  private static final String EXAMPLE_SECRETS = "secret.example.yaml";

  /** The environment variables Chassis reads, each with the key it sets. */
  private static final Map<String, String> CHASSIS_ENVIRONMENT =
      ChassisConfig.environmentVariables();

  /** What the downward API fills in, to evaluate the environment as a pod sees it. */
  private static final Map<String, String> DOWNWARD_API_SAMPLES =
      Map.of("status.podIP", "10.244.1.7", "status.hostIP", "10.0.0.12");

  /** Time between the end of Chassis's grace period and the kubelet's SIGKILL, at least. */
  private static final Duration MIN_SIGKILL_MARGIN = Duration.ofSeconds(3);

  private static final Pattern VARIABLE_REFERENCE = Pattern.compile("\\$\\(([A-Za-z_][\\w]*)\\)");

  private static final ObjectMapper YAML = new YAMLMapper();
  private static final ObjectMapper JSON = new JsonMapper();

  /** One document of a (possibly multi-document) manifest file. */
  private record Manifest(Path file, int index, JsonNode node) {
    String kind() {
      return node.path("kind").asText();
    }

    String name() {
      return node.path("metadata").path("name").asText();
    }

    @Override
    public String toString() {
      return file.getFileName() + "#" + index + " (" + kind() + " " + name() + ")";
    }
  }

  @Test
  void everyManifest_hasApiVersionKindAndName() throws IOException {
    List<Manifest> manifests = allManifests();

    assertThat(manifests).as("documents under %s", KUBERNETES).isNotEmpty();
    for (Manifest manifest : manifests) {
      for (String field : List.of("apiVersion", "kind")) {
        assertThat(manifest.node().path(field).asText()).as("%s: %s", manifest, field).isNotBlank();
      }
      assertThat(manifest.name()).as("%s: metadata.name", manifest).isNotBlank();
    }
  }

  @Test
  void kustomization_listsEveryManifestButTheExampleSecrets() throws IOException {
    JsonNode kustomization = YAML.readTree(KUBERNETES.resolve(KUSTOMIZATION).toFile());

    Set<String> listed = new TreeSet<>();
    kustomization.path("resources").forEach(resource -> listed.add(resource.asText()));
    Set<String> expected = new TreeSet<>(manifestFileNames());
    expected.remove(EXAMPLE_SECRETS);
    assertThat(listed)
        .as("resources of %s (every manifest except %s)", KUSTOMIZATION, EXAMPLE_SECRETS)
        .isEqualTo(expected);
  }

  @Test
  void containerPorts_matchTheConfigurationTheJarRunsWith() throws IOException {
    ChassisConfig config = configAsThePodSeesIt();
    JsonNode container = container();

    assertThat(containerPort(container, "grpc"))
        .as("container port 'grpc' vs chassis.grpc.port")
        .isEqualTo(config.grpc().port());
    assertThat(containerPort(container, "admin"))
        .as("container port 'admin' vs chassis.admin.port")
        .isEqualTo(config.admin().port());
  }

  @Test
  void service_isNamedLikeTheChassisService() throws IOException {
    ChassisConfig config = configAsThePodSeesIt();

    // docs/deployment.md and mesh clients use dns:///user-service.<namespace>.svc...:50051
    assertThat(kind("Service").stream().map(Manifest::name))
        .as("Service names (one must be chassis.service.name)")
        .contains(config.serviceName());
  }

  @Test
  void environment_isAValidChassisConfigurationAsThePodSeesIt() throws IOException {
    ChassisConfig config = configAsThePodSeesIt();

    assertThat(config.consul().enabled()).as("Consul registration configured").isTrue();
    assertThat(config.consulAddress())
        .as("CONSUL_HTTP_ADDR: the agent on the pod's node")
        .hasValueSatisfying(
            uri -> assertThat(uri.getHost()).isEqualTo(DOWNWARD_API_SAMPLES.get("status.hostIP")));
    assertThat(config.consul().registration().advertiseAddress())
        .as("CHASSIS_ADVERTISE_ADDRESS: the pod IP from the downward API")
        .isEqualTo(DOWNWARD_API_SAMPLES.get("status.podIP"));
  }

  @Test
  void environment_setsOnlyVariablesChassisReads() throws IOException {
    for (String name : env().keySet()) {
      if (name.startsWith("CHASSIS_") || name.startsWith("CONSUL_")) {
        assertThat(CHASSIS_ENVIRONMENT)
            .as("%s is not a variable ChassisConfig reads (docs/configuration.md)", name)
            .containsKey(name);
      }
    }
  }

  @Test
  void environment_referencesOnlyVariablesDefinedBeforeThem() throws IOException {
    // Kubernetes expands $(NAME) only for variables earlier in the list; otherwise the text stays.
    Set<String> defined = new HashSet<>();
    for (Map.Entry<String, JsonNode> variable : env().entrySet()) {
      Matcher reference = VARIABLE_REFERENCE.matcher(variable.getValue().path("value").asText());
      while (reference.find()) {
        assertThat(defined)
            .as(
                "%s refers to %s, defined later or not at all",
                variable.getKey(), reference.group())
            .contains(reference.group(1));
      }
      defined.add(variable.getKey());
    }
  }

  @Test
  void secretReferences_areOptionalAndMatchTheExampleSecrets() throws IOException {
    Map<String, Set<String>> exampleKeys = new LinkedHashMap<>();
    for (Manifest secret : documents(KUBERNETES.resolve(EXAMPLE_SECRETS))) {
      assertThat(secret.kind()).as("%s", secret).isEqualTo("Secret");
      Set<String> keys = new TreeSet<>();
      secret.node().path("stringData").properties().forEach(entry -> keys.add(entry.getKey()));
      exampleKeys.put(secret.name(), keys);
    }

    List<JsonNode> references = new ArrayList<>();
    env().values().forEach(variable -> references.add(variable.path("valueFrom")));
    for (JsonNode reference : references) {
      JsonNode secretKeyRef = reference.path("secretKeyRef");
      if (secretKeyRef.isMissingNode()) {
        continue;
      }
      String secret = secretKeyRef.path("name").asText();
      String key = secretKeyRef.path("key").asText();
      assertThat(exampleKeys)
          .as("secret %s referenced by the Deployment is in %s", secret, EXAMPLE_SECRETS)
          .containsKey(secret);
      assertThat(exampleKeys.get(secret)).as("keys of example secret %s", secret).contains(key);
      assertThat(secretKeyRef.path("optional").asBoolean())
          .as("secretKeyRef %s/%s is optional, so the pod starts without it", secret, key)
          .isTrue();
    }
  }

  @Test
  void probes_targetTheAdminAndGrpcPortsAndTheHealthPaths() throws IOException {
    ChassisConfig config = configAsThePodSeesIt();
    JsonNode container = container();
    Set<String> adminPort = Set.of("admin", String.valueOf(config.admin().port()));
    Set<String> grpcPort = Set.of("grpc", String.valueOf(config.grpc().port()));

    JsonNode liveness = container.path("livenessProbe");
    assertThat(liveness.path("httpGet").path("path").asText())
        .as("livenessProbe path (never /health/ready: a database outage must not restart pods)")
        .isEqualTo("/health/live");
    assertThat(liveness.path("httpGet").path("port").asText())
        .as("livenessProbe port")
        .isIn(adminPort);

    JsonNode readiness = container.path("readinessProbe");
    if (readiness.has("grpc")) {
      // The kubelet's gRPC probe takes a port number only, and checks the overall health "".
      assertThat(readiness.path("grpc").path("port").asInt())
          .as("readinessProbe grpc port")
          .isEqualTo(config.grpc().port());
      assertThat(readiness.path("grpc").path("service").asText(""))
          .as("readinessProbe grpc service")
          .isEmpty();
    } else {
      assertThat(readiness.path("httpGet").path("path").asText())
          .as("readinessProbe path")
          .isEqualTo("/health/ready");
      assertThat(readiness.path("httpGet").path("port").asText())
          .as("readinessProbe port")
          .isIn(adminPort);
    }

    JsonNode startup = container.path("startupProbe");
    assertThat(startup.isMissingNode()).as("startupProbe present").isFalse();
    if (startup.has("grpc")) {
      assertThat(startup.path("grpc").path("port").asText()).as("startupProbe").isIn(grpcPort);
    } else {
      assertThat(startup.path("httpGet").path("path").asText())
          .as("startupProbe path")
          .isIn("/health/live", "/health/ready");
      assertThat(startup.path("httpGet").path("port").asText())
          .as("startupProbe port")
          .isIn(adminPort);
    }
  }

  @Test
  void terminationGracePeriod_outlastsPreStopAndTheShutdownGrace() throws IOException {
    ChassisConfig config = configAsThePodSeesIt();
    JsonNode pod = podSpec();

    Duration preStop = preStopSleep(container());
    Duration grace = config.shutdown().grace();
    Duration terminationGrace =
        Duration.ofSeconds(pod.path("terminationGracePeriodSeconds").asLong(30));
    assertThat(config.shutdown().drainDelay())
        .as("chassis.shutdown.drain-delay fits in the grace period")
        .isLessThanOrEqualTo(grace);
    assertThat(terminationGrace)
        .as(
            "terminationGracePeriodSeconds (%ss) vs preStop sleep %ss + chassis.shutdown.grace %ss"
                + " + at least %ss margin",
            terminationGrace.toSeconds(),
            preStop.toSeconds(),
            grace.toSeconds(),
            MIN_SIGKILL_MARGIN.toSeconds())
        .isGreaterThanOrEqualTo(preStop.plus(grace).plus(MIN_SIGKILL_MARGIN));
  }

  @Test
  void rollingUpdate_keepsEveryPodUntilItsReplacementIsReady() throws IOException {
    JsonNode strategy = deployment().node().path("spec").path("strategy");

    assertThat(strategy.path("type").asText("RollingUpdate")).isEqualTo("RollingUpdate");
    JsonNode rollingUpdate = strategy.path("rollingUpdate");
    assertThat(rollingUpdate.path("maxUnavailable").asText())
        .as("rollingUpdate.maxUnavailable")
        .isIn("0", "0%");
    assertThat(rollingUpdate.path("maxSurge").asText())
        .as("rollingUpdate.maxSurge (must allow a new pod, with maxUnavailable 0)")
        .isNotIn("", "0", "0%");
  }

  @Test
  void everyContainer_hasResourceRequestsAndLimits() throws IOException {
    for (JsonNode container : podSpec().path("containers")) {
      String name = container.path("name").asText();
      JsonNode resources = container.path("resources");
      for (String resource : List.of("cpu", "memory")) {
        String request = resources.path("requests").path(resource).asText();
        String limit = resources.path("limits").path(resource).asText();
        assertThat(request).as("%s: resources.requests.%s", name, resource).isNotBlank();
        assertThat(limit).as("%s: resources.limits.%s", name, resource).isNotBlank();
        assertThat(quantity(request))
            .as("%s: %s request %s <= limit %s", name, resource, request, limit)
            .isLessThanOrEqualTo(quantity(limit));
      }
    }
  }

  @Test
  void pod_runsAsTheImagesNonRootUserWithAReadOnlyRootFilesystem() throws IOException {
    JsonNode pod = podSpec();
    JsonNode podSecurity = pod.path("securityContext");
    long imageUser = Long.parseLong(dockerfileRuntimeUser().split(":")[0]);

    for (JsonNode container : pod.path("containers")) {
      String name = container.path("name").asText();
      JsonNode security = container.path("securityContext");
      assertThat(
              security.path("runAsNonRoot").asBoolean(podSecurity.path("runAsNonRoot").asBoolean()))
          .as("%s: runAsNonRoot", name)
          .isTrue();
      JsonNode runAsUser =
          security.has("runAsUser") ? security.path("runAsUser") : podSecurity.path("runAsUser");
      if (!runAsUser.isMissingNode()) {
        assertThat(runAsUser.asLong())
            .as("%s: runAsUser matches the Dockerfile's USER", name)
            .isEqualTo(imageUser);
      }
      assertThat(security.path("allowPrivilegeEscalation").asBoolean(true))
          .as("%s: allowPrivilegeEscalation", name)
          .isFalse();
      assertThat(security.path("readOnlyRootFilesystem").asBoolean())
          .as("%s: readOnlyRootFilesystem", name)
          .isTrue();

      // The JVM and Netty write to java.io.tmpdir; with a read-only root it must be a volume.
      Set<String> volumes = new HashSet<>();
      pod.path("volumes").forEach(volume -> volumes.add(volume.path("name").asText()));
      JsonNode tmp = null;
      for (JsonNode mount : container.path("volumeMounts")) {
        if (mount.path("mountPath").asText().equals("/tmp")) {
          tmp = mount;
        }
      }
      assertThat(tmp).as("%s: a volume mounted at /tmp", name).isNotNull();
      assertThat(volumes)
          .as("%s: volume of /tmp is defined", name)
          .contains(tmp.path("name").asText());
      assertThat(tmp.path("readOnly").asBoolean()).as("%s: /tmp writable", name).isFalse();
    }
  }

  @Test
  void prometheusAnnotations_pointAtTheAdminPort() throws IOException {
    ChassisConfig config = configAsThePodSeesIt();
    JsonNode annotations =
        deployment().node().path("spec").path("template").path("metadata").path("annotations");

    assertThat(annotations.path("prometheus.io/scrape").asText()).isEqualTo("true");
    assertThat(annotations.path("prometheus.io/port").asText())
        .as("prometheus.io/port vs chassis.admin.port")
        .isEqualTo(String.valueOf(config.admin().port()));
    assertThat(annotations.path("prometheus.io/path").asText()).isEqualTo("/metrics");
  }

  @Test
  void horizontalPodAutoscaler_scalesTheDeploymentOnCpuAndMemory() throws IOException {
    Manifest deployment = deployment();
    List<Manifest> autoscalers = kind("HorizontalPodAutoscaler");

    assertThat(autoscalers).as("HorizontalPodAutoscalers").hasSize(1);
    JsonNode hpa = autoscalers.get(0).node();
    assertThat(hpa.path("apiVersion").asText()).isEqualTo("autoscaling/v2");
    JsonNode spec = hpa.path("spec");
    JsonNode target = spec.path("scaleTargetRef");
    assertThat(target.path("apiVersion").asText())
        .as("scaleTargetRef.apiVersion")
        .isEqualTo(deployment.node().path("apiVersion").asText());
    assertThat(target.path("kind").asText()).as("scaleTargetRef.kind").isEqualTo("Deployment");
    assertThat(target.path("name").asText()).as("scaleTargetRef.name").isEqualTo(deployment.name());

    Set<String> resources = new TreeSet<>();
    spec.path("metrics")
        .forEach(metric -> resources.add(metric.path("resource").path("name").asText()));
    assertThat(resources).as("resource metrics").contains("cpu", "memory");

    int replicas = deployment.node().path("spec").path("replicas").asInt(1);
    int min = spec.path("minReplicas").asInt(1);
    int max = spec.path("maxReplicas").asInt();
    assertThat(replicas).as("Deployment replicas within HPA min..max").isBetween(min, max);
    assertThat(spec.path("behavior").path("scaleDown").path("stabilizationWindowSeconds").asInt())
        .as("scaleDown.stabilizationWindowSeconds")
        .isPositive();
  }

  @Test
  void podDisruptionBudget_selectsThePodsAndLetsDrainsProceed() throws IOException {
    List<Manifest> budgets = kind("PodDisruptionBudget");
    int minReplicas =
        kind("HorizontalPodAutoscaler").get(0).node().path("spec").path("minReplicas").asInt();

    assertThat(budgets).as("PodDisruptionBudgets").hasSize(1);
    JsonNode spec = budgets.get(0).node().path("spec");
    assertSelects(spec.path("selector").path("matchLabels"), "PodDisruptionBudget selector");
    if (spec.has("maxUnavailable")) {
      assertThat(spec.path("maxUnavailable").asInt()).as("maxUnavailable").isPositive();
    } else {
      // minAvailable as high as the smallest replica count would block every node drain.
      assertThat(spec.path("minAvailable").asInt())
          .as("minAvailable vs HPA minReplicas %s", minReplicas)
          .isLessThan(minReplicas);
    }
  }

  @Test
  void services_selectThePodsAndTargetContainerPorts() throws IOException {
    JsonNode container = container();
    Set<String> containerPorts = new HashSet<>();
    for (JsonNode port : container.path("ports")) {
      containerPorts.add(port.path("name").asText());
      containerPorts.add(port.path("containerPort").asText());
    }

    List<Manifest> services = kind("Service");
    assertThat(services).as("Services").isNotEmpty();
    for (Manifest service : services) {
      assertSelects(service.node().path("spec").path("selector"), service + " selector");
      for (JsonNode port : service.node().path("spec").path("ports")) {
        String targetPort = port.path("targetPort").asText(port.path("port").asText());
        assertThat(containerPorts)
            .as("%s: targetPort %s is a container port", service, targetPort)
            .contains(targetPort);
      }
    }
  }

  @Test
  void dockerfile_runtimeStageRunsTheJarAsNonRootAndExposesTheConfiguredPorts() throws IOException {
    ChassisConfig config = configAsThePodSeesIt();
    List<List<String>> stages = dockerfileStages();

    assertThat(stages).as("stages of %s (build and runtime)", DOCKERFILE).hasSizeGreaterThan(1);
    assertThat(instructions(stages.get(0), "RUN"))
        .as("build stage runs the Maven Wrapper's package")
        .anyMatch(run -> run.contains("./mvnw") && run.contains("package"));

    List<String> runtime = stages.get(stages.size() - 1);
    String user = dockerfileRuntimeUser();
    assertThat(user)
        .as("runtime USER is numeric (runAsNonRoot can verify it)")
        .matches("\\d+(:\\d+)?");
    assertThat(Long.parseLong(user.split(":")[0])).as("runtime USER uid").isPositive();

    Set<Integer> exposed = new TreeSet<>();
    for (String expose : instructions(runtime, "EXPOSE")) {
      for (String port : expose.trim().split("\\s+")) {
        exposed.add(Integer.parseInt(port.replace("/tcp", "")));
      }
    }
    assertThat(exposed)
        .as("EXPOSE vs chassis.grpc.port and chassis.admin.port")
        .containsExactlyInAnyOrder(config.grpc().port(), config.admin().port());

    List<String> copies = instructions(runtime, "COPY");
    assertThat(copies).as("runtime stage copies only the jar from the build stage").hasSize(1);
    assertThat(copies.get(0)).startsWith("--from=build").contains("sample-user-service.jar");

    List<String> entrypoints = instructions(runtime, "ENTRYPOINT");
    assertThat(entrypoints).as("runtime ENTRYPOINT").hasSize(1);
    assertThat(entrypoints.get(0).trim())
        .as("ENTRYPOINT in exec form, so java is PID 1 and gets SIGTERM")
        .startsWith("[");
    List<String> command = new ArrayList<>();
    JSON.readTree(entrypoints.get(0)).forEach(argument -> command.add(argument.asText()));
    assertThat(command).as("ENTRYPOINT").startsWith("java").contains("-jar");
    assertThat(command.get(command.indexOf("-jar") + 1))
        .as("jar run by the ENTRYPOINT is the one copied")
        .endsWith("/sample-user-service.jar")
        .satisfies(jar -> assertThat(copies.get(0)).endsWith(jar));

    assertThat(instructions(runtime, "ENV"))
        .as("JVM container flags")
        .anyMatch(
            env ->
                env.contains("JAVA_TOOL_OPTIONS")
                    && env.contains("-XX:MaxRAMPercentage=")
                    && env.contains("-XX:+ExitOnOutOfMemoryError"));
  }

  // ---- configuration -------------------------------------------------------------------------

  /**
   * The sample's {@code application.conf} over Chassis's defaults, with the Deployment's
   * environment on top, mapped as ChassisConfig maps real variables (downward-API values filled
   * with samples, secrets with placeholders). Independent of this JVM's environment and {@code -D}
   * properties, unlike {@link ChassisConfig#load()}.
   */
  private static ChassisConfig configAsThePodSeesIt() throws IOException {
    Map<String, String> values = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> variable : env().entrySet()) {
      JsonNode definition = variable.getValue();
      String value;
      if (definition.has("value")) {
        value = expand(definition.path("value").asText(), values);
      } else if (definition.path("valueFrom").has("fieldRef")) {
        String field = definition.path("valueFrom").path("fieldRef").path("fieldPath").asText();
        value = DOWNWARD_API_SAMPLES.getOrDefault(field, "sample");
      } else {
        value = "placeholder-from-" + variable.getKey().toLowerCase(Locale.ROOT);
      }
      values.put(variable.getKey(), value);
    }

    Map<String, String> overlay = new LinkedHashMap<>();
    values.forEach(
        (name, value) -> {
          String key = CHASSIS_ENVIRONMENT.get(name);
          if (key != null) {
            overlay.put(key, value);
          }
        });
    return ChassisConfig.from(
        ConfigFactory.parseMap(overlay, "deployment.yaml env")
            .withFallback(ConfigFactory.parseResources("application.conf"))
            .withFallback(ConfigFactory.defaultReferenceUnresolved()));
  }

  private static String expand(String value, Map<String, String> earlier) {
    Matcher reference = VARIABLE_REFERENCE.matcher(value);
    StringBuilder expanded = new StringBuilder();
    while (reference.find()) {
      String replacement = earlier.getOrDefault(reference.group(1), reference.group());
      reference.appendReplacement(expanded, Matcher.quoteReplacement(replacement));
    }
    return reference.appendTail(expanded).toString();
  }

  // ---- Kubernetes manifests ------------------------------------------------------------------

  private static List<String> manifestFileNames() throws IOException {
    try (Stream<Path> files = Files.list(KUBERNETES)) {
      return files
          .map(file -> file.getFileName().toString())
          .filter(name -> name.endsWith(".yaml") || name.endsWith(".yml"))
          .filter(name -> !name.equals(KUSTOMIZATION))
          .sorted()
          .collect(Collectors.toList());
    }
  }

  private static List<Manifest> allManifests() throws IOException {
    List<Manifest> manifests = new ArrayList<>();
    for (String name : manifestFileNames()) {
      List<Manifest> documents = documents(KUBERNETES.resolve(name));
      assertThat(documents).as("documents in %s", name).isNotEmpty();
      manifests.addAll(documents);
    }
    return manifests;
  }

  /** The applied manifests (the example Secrets are not applied). */
  private static List<Manifest> appliedManifests() throws IOException {
    List<Manifest> applied = new ArrayList<>();
    for (Manifest manifest : allManifests()) {
      if (!manifest.file().getFileName().toString().equals(EXAMPLE_SECRETS)) {
        applied.add(manifest);
      }
    }
    return applied;
  }

  private static List<Manifest> documents(Path file) throws IOException {
    List<Manifest> documents = new ArrayList<>();
    try (var values = YAML.readerFor(JsonNode.class).<JsonNode>readValues(file.toFile())) {
      int index = 0;
      while (values.hasNextValue()) {
        JsonNode node = values.nextValue();
        if (node != null && !node.isMissingNode() && !node.isNull() && !node.isEmpty()) {
          documents.add(new Manifest(file, index, node));
        }
        index++;
      }
    }
    return documents;
  }

  private static List<Manifest> kind(String kind) throws IOException {
    List<Manifest> matching = new ArrayList<>();
    for (Manifest manifest : appliedManifests()) {
      if (manifest.kind().equals(kind)) {
        matching.add(manifest);
      }
    }
    return matching;
  }

  private static Manifest deployment() throws IOException {
    List<Manifest> deployments = kind("Deployment");
    assertThat(deployments).as("Deployments").hasSize(1);
    return deployments.get(0);
  }

  private static JsonNode podSpec() throws IOException {
    return deployment().node().path("spec").path("template").path("spec");
  }

  private static JsonNode container() throws IOException {
    JsonNode containers = podSpec().path("containers");
    assertThat(containers.size()).as("containers in the pod").isEqualTo(1);
    return containers.get(0);
  }

  /** The container's variables by name, in their order. */
  private static Map<String, JsonNode> env() throws IOException {
    Map<String, JsonNode> env = new LinkedHashMap<>();
    for (JsonNode variable : container().path("env")) {
      JsonNode previous = env.put(variable.path("name").asText(), variable);
      assertThat(previous).as("env %s defined twice", variable.path("name").asText()).isNull();
    }
    return env;
  }

  private static int containerPort(JsonNode container, String name) {
    for (JsonNode port : container.path("ports")) {
      if (port.path("name").asText().equals(name)) {
        return port.path("containerPort").asInt();
      }
    }
    return fail("no container port named '%s'", name);
  }

  private static Duration preStopSleep(JsonNode container) {
    JsonNode preStop = container.path("lifecycle").path("preStop");
    if (preStop.has("sleep")) {
      return Duration.ofSeconds(preStop.path("sleep").path("seconds").asLong());
    }
    List<String> command = new ArrayList<>();
    preStop.path("exec").path("command").forEach(argument -> command.add(argument.asText()));
    assertThat(command)
        .as("preStop is `sleep: {seconds: N}` or `exec: {command: [sleep, N]}`")
        .hasSize(2)
        .first()
        .isEqualTo("sleep");
    return Duration.ofSeconds(Long.parseLong(command.get(1)));
  }

  /** Asserts a selector is non-empty and every label in it is on the pod template. */
  private static void assertSelects(JsonNode selector, String description) throws IOException {
    JsonNode podLabels =
        deployment().node().path("spec").path("template").path("metadata").path("labels");
    assertThat(selector.size()).as("%s is not empty", description).isPositive();
    selector
        .properties()
        .forEach(
            label ->
                assertThat(podLabels.path(label.getKey()).asText())
                    .as("%s: pod template label %s", description, label.getKey())
                    .isEqualTo(label.getValue().asText()));
  }

  /** A Kubernetes quantity (500m, 2, 768Mi, 1Gi, 1G) in base units (cores, bytes). */
  private static BigDecimal quantity(String text) {
    Matcher matcher = Pattern.compile("([0-9.]+)([a-zA-Z]*)").matcher(text);
    assertThat(matcher.matches()).as("quantity %s", text).isTrue();
    BigDecimal factor =
        switch (matcher.group(2)) {
          case "" -> BigDecimal.ONE;
          case "m" -> new BigDecimal("0.001");
          case "k" -> BigDecimal.TEN.pow(3);
          case "M" -> BigDecimal.TEN.pow(6);
          case "G" -> BigDecimal.TEN.pow(9);
          case "Ki" -> BigDecimal.valueOf(1L << 10);
          case "Mi" -> BigDecimal.valueOf(1L << 20);
          case "Gi" -> BigDecimal.valueOf(1L << 30);
          case "Ti" -> BigDecimal.valueOf(1L << 40);
          default -> fail("unknown quantity suffix in %s", text);
        };
    return new BigDecimal(matcher.group(1)).multiply(factor);
  }

  // ---- Dockerfile ----------------------------------------------------------------------------

  /** Instructions per stage ({@code FROM} starts one), continuation lines joined, comments out. */
  private static List<List<String>> dockerfileStages() throws IOException {
    List<List<String>> stages = new ArrayList<>();
    StringBuilder pending = new StringBuilder();
    for (String line : Files.readAllLines(DOCKERFILE)) {
      String trimmed = line.strip();
      if (trimmed.startsWith("#") || (trimmed.isEmpty() && pending.length() == 0)) {
        continue;
      }
      if (trimmed.endsWith("\\")) {
        pending.append(trimmed, 0, trimmed.length() - 1).append(' ');
        continue;
      }
      String instruction = pending.append(trimmed).toString().strip();
      pending.setLength(0);
      if (instruction.isEmpty()) {
        continue;
      }
      if (instruction.regionMatches(true, 0, "FROM ", 0, 5)) {
        stages.add(new ArrayList<>());
      }
      assertThat(stages).as("%s starts with FROM", DOCKERFILE).isNotEmpty();
      stages.get(stages.size() - 1).add(instruction);
    }
    return stages;
  }

  /** The arguments of every {@code keyword} instruction of a stage. */
  private static List<String> instructions(List<String> stage, String keyword) {
    List<String> arguments = new ArrayList<>();
    for (String instruction : stage) {
      String[] parts = instruction.split("\\s+", 2);
      if (parts[0].equalsIgnoreCase(keyword)) {
        arguments.add(parts.length > 1 ? parts[1] : "");
      }
    }
    return arguments;
  }

  private static String dockerfileRuntimeUser() throws IOException {
    List<List<String>> stages = dockerfileStages();
    List<String> users = instructions(stages.get(stages.size() - 1), "USER");
    assertThat(users).as("USER in the runtime stage of %s", DOCKERFILE).isNotEmpty();
    return users.get(users.size() - 1).trim();
  }
}
