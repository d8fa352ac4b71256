package dev.chassis.discovery.fixed;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.Status;
import io.grpc.SynchronizationContext;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The resolver with a stand-in for DNS: no lookup leaves this machine. */
class StaticNameResolverTest {
  private final SynchronizationContext syncContext =
      new SynchronizationContext(
          (thread, e) -> {
            throw new AssertionError(e);
          });
  private final ConcurrentLinkedQueue<Runnable> offloaded = new ConcurrentLinkedQueue<>();
  private final Executor offload = offloaded::add;
  private final NameResolver.Args args =
      NameResolver.Args.newBuilder()
          .setDefaultPort(443)
          .setProxyDetector(address -> null)
          .setSynchronizationContext(syncContext)
          .setServiceConfigParser(
              new NameResolver.ServiceConfigParser() {
                @Override
                public NameResolver.ConfigOrError parseServiceConfig(java.util.Map<String, ?> c) {
                  return NameResolver.ConfigOrError.fromConfig(c);
                }
              })
          .setOffloadExecutor(offload)
          .build();

  @Test
  void hostNames_areLookedUpOnTheOffloadExecutor_unresolvableOnesLeftOut() {
    StaticNameResolver resolver =
        new StaticNameResolver(
            "users",
            StaticNameResolverProvider.parse("good:1,gone:2", java.net.URI.create("static:///x")),
            args,
            entry ->
                entry.host().equals("gone")
                    ? InetSocketAddress.createUnresolved("gone", 2)
                    : new InetSocketAddress("127.0.0.1", entry.port()));
    Recorder listener = new Recorder();

    syncContext.execute(() -> resolver.start(listener));

    assertThat(listener.addresses.get()).as("nothing delivered before the lookup ran").isNull();
    runOffloaded();
    assertThat(listener.addresses.get())
        .extracting(group -> group.getAddresses().get(0))
        .containsExactly(new InetSocketAddress("127.0.0.1", 1));
    assertThat(listener.error.get()).isNull();
  }

  @Test
  void noEntryResolvable_reportsUnavailable() {
    StaticNameResolver resolver =
        new StaticNameResolver(
            "users",
            StaticNameResolverProvider.parse("gone:2", java.net.URI.create("static:///x")),
            args,
            entry -> InetSocketAddress.createUnresolved(entry.host(), entry.port()));
    Recorder listener = new Recorder();

    syncContext.execute(() -> resolver.start(listener));
    runOffloaded();

    assertThat(listener.error.get().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(listener.error.get().getDescription()).contains("gone:2");
  }

  @Test
  void ipLiterals_resolveInlineWithoutOffloading() {
    StaticNameResolver resolver =
        new StaticNameResolver(
            "users",
            StaticNameResolverProvider.parse(
                "127.0.0.1:1,[::1]:2", java.net.URI.create("static:///x")),
            args);
    Recorder listener = new Recorder();

    syncContext.execute(() -> resolver.start(listener));

    assertThat(offloaded).isEmpty();
    assertThat(listener.addresses.get()).hasSize(2);
  }

  private void runOffloaded() {
    Runnable task;
    while ((task = offloaded.poll()) != null) {
      task.run();
    }
  }

  private static final class Recorder extends NameResolver.Listener2 {
    final AtomicReference<List<EquivalentAddressGroup>> addresses = new AtomicReference<>();
    final AtomicReference<Status> error = new AtomicReference<>();

    @Override
    public void onResult(NameResolver.ResolutionResult result) {
      addresses.set(result.getAddressesOrError().getValue());
    }

    @Override
    public Status onResult2(NameResolver.ResolutionResult result) {
      onResult(result);
      return Status.OK;
    }

    @Override
    public void onError(Status status) {
      error.set(status);
    }
  }
}
