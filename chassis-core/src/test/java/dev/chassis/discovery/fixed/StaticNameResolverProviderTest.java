package dev.chassis.discovery.fixed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.NameResolver;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

class StaticNameResolverProviderTest {
  private static final URI TARGET = URI.create("static:///x");

  @Test
  void parse_hostsPortsAndIpv6() {
    List<StaticNameResolverProvider.HostAndPort> entries =
        StaticNameResolverProvider.parse("10.0.0.5:50051, localhost:7,[::1]:9000", TARGET);

    assertThat(entries)
        .containsExactly(
            new StaticNameResolverProvider.HostAndPort("10.0.0.5", 50051),
            new StaticNameResolverProvider.HostAndPort("localhost", 7),
            new StaticNameResolverProvider.HostAndPort("::1", 9000));
    assertThat(entries.get(2).toString()).isEqualTo("[::1]:9000");
  }

  @Test
  void parse_missingPort_isRejectedWithTheEntry() {
    assertThatThrownBy(() -> StaticNameResolverProvider.parse("10.0.0.5", TARGET))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'10.0.0.5'")
        .hasMessageContaining("expected: host:port");
  }

  @Test
  void parse_badPortsAndEmptyEntries_areRejected() {
    assertThatThrownBy(() -> StaticNameResolverProvider.parse("a:0", TARGET))
        .hasMessageContaining("port: 0");
    assertThatThrownBy(() -> StaticNameResolverProvider.parse("a:http", TARGET))
        .hasMessageContaining("'a:http'");
    assertThatThrownBy(() -> StaticNameResolverProvider.parse("a:1,,b:2", TARGET))
        .hasMessageContaining("''");
    assertThatThrownBy(() -> StaticNameResolverProvider.parse("::1:80", TARGET))
        .hasMessageContaining("[ipv6]:port");
  }

  @Test
  void newNameResolver_percentEncodedIpv6_isAccepted() {
    NameResolver resolver =
        new StaticNameResolverProvider()
            .newNameResolver(URI.create("static:///%5B::1%5D:50051"), null);

    assertThat(resolver.getServiceAuthority()).isEqualTo("[::1]:50051");
  }

  @Test
  void newNameResolver_otherScheme_returnsNull() {
    assertThat(new StaticNameResolverProvider().newNameResolver(URI.create("dns:///a:1"), null))
        .isNull();
  }

  @Test
  void newNameResolver_authorityFromUriOrFirstEntry() {
    StaticNameResolverProvider provider = new StaticNameResolverProvider();

    assertThat(
            provider
                .newNameResolver(URI.create("static://users/127.0.0.1:1,127.0.0.1:2"), null)
                .getServiceAuthority())
        .isEqualTo("users");
    assertThat(
            provider
                .newNameResolver(URI.create("static:///127.0.0.1:1,127.0.0.1:2"), null)
                .getServiceAuthority())
        .isEqualTo("127.0.0.1:1");
  }
}
