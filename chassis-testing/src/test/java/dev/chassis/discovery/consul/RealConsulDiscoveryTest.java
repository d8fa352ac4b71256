package dev.chassis.discovery.consul;

import java.net.URI;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * The discovery contract against a real Consul agent: {@code consul agent -dev} on this machine,
 * then {@code CONSUL_HTTP_ADDR=http://127.0.0.1:8500 ./mvnw -pl chassis-testing -am verify}. The
 * agent must reach the test servers on 127.0.0.1 for its gRPC checks. See docs/discovery.md.
 */
@EnabledIfEnvironmentVariable(
    named = "CONSUL_HTTP_ADDR",
    matches = ".+",
    disabledReason =
        "no real Consul agent: set CONSUL_HTTP_ADDR (for example to the address of"
            + " `consul agent -dev`) to run the discovery contract against one; the same tests"
            + " ran against the Consul double in ConsulDoubleDiscoveryTest")
class RealConsulDiscoveryTest extends ConsulDiscoveryContract {
  @Override
  URI agent() {
    String address = System.getenv("CONSUL_HTTP_ADDR");
    return URI.create(address.contains("://") ? address : "http://" + address);
  }

  @Override
  String token() {
    String token = System.getenv("CONSUL_HTTP_TOKEN");
    return token == null ? "" : token;
  }
}
