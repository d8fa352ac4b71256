package dev.chassis.discovery.fixed;

import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.Status;
import io.grpc.StatusOr;
import io.grpc.SynchronizationContext;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands grpc the fixed address list, one {@link EquivalentAddressGroup} per entry. Host names are
 * looked up on {@link #start} and on each {@link #refresh} on grpc's offload executor, never in the
 * channel's synchronization context (where a slow DNS answer would stall the whole channel). An
 * entry that does not resolve is left out; only when none resolves is it an error.
 */
final class StaticNameResolver extends NameResolver {
  private static final Logger logger = LoggerFactory.getLogger(StaticNameResolver.class);

  private final String authority;
  private final List<StaticNameResolverProvider.HostAndPort> entries;
  private final @Nullable Executor offload;
  private final @Nullable SynchronizationContext syncContext;
  private final Function<StaticNameResolverProvider.HostAndPort, InetSocketAddress> lookup;
  // Touched only in the synchronization context.
  private @Nullable Listener2 listener;
  private boolean resolving;

  StaticNameResolver(
      String authority, List<StaticNameResolverProvider.HostAndPort> entries, @Nullable Args args) {
    this(authority, entries, args, entry -> new InetSocketAddress(entry.host(), entry.port()));
  }

  /** With {@code lookup} standing in for DNS, for tests. */
  StaticNameResolver(
      String authority,
      List<StaticNameResolverProvider.HostAndPort> entries,
      @Nullable Args args,
      Function<StaticNameResolverProvider.HostAndPort, InetSocketAddress> lookup) {
    this.authority = authority;
    this.entries = entries;
    this.offload = args == null ? null : args.getOffloadExecutor();
    this.syncContext = args == null ? null : args.getSynchronizationContext();
    this.lookup = lookup;
  }

  @Override
  public String getServiceAuthority() {
    return authority;
  }

  @Override
  public void start(Listener2 listener) {
    this.listener = listener;
    resolve();
  }

  @Override
  public void refresh() {
    resolve();
  }

  private void resolve() {
    if (listener == null || resolving) {
      return;
    }
    boolean literalsOnly =
        entries.stream().allMatch(StaticNameResolverProvider.HostAndPort::isLiteral);
    if (literalsOnly || offload == null || syncContext == null) {
      deliver(lookUp());
      return;
    }
    resolving = true;
    SynchronizationContext context = syncContext;
    offload.execute(
        () -> {
          Resolved resolved = lookUp();
          context.execute(
              () -> {
                resolving = false;
                deliver(resolved);
              });
        });
  }

  private record Resolved(List<EquivalentAddressGroup> groups, List<String> unresolved) {}

  private Resolved lookUp() {
    List<EquivalentAddressGroup> groups = new ArrayList<>(entries.size());
    List<String> unresolved = new ArrayList<>();
    for (StaticNameResolverProvider.HostAndPort entry : entries) {
      InetSocketAddress address = lookup.apply(entry);
      if (address.isUnresolved()) {
        unresolved.add(entry.toString());
      } else {
        groups.add(new EquivalentAddressGroup(address));
      }
    }
    return new Resolved(groups, unresolved);
  }

  private void deliver(Resolved resolved) {
    Listener2 current = listener;
    if (current == null) {
      return;
    }
    if (resolved.groups().isEmpty()) {
      current.onError(
          Status.UNAVAILABLE.withDescription("cannot resolve any of " + resolved.unresolved()));
      return;
    }
    if (!resolved.unresolved().isEmpty()) {
      logger.warn(
          "static target {}: leaving out unresolvable {}", authority, resolved.unresolved());
    }
    current.onResult2(
        ResolutionResult.newBuilder()
            .setAddressesOrError(StatusOr.fromValue(resolved.groups()))
            .build());
  }

  @Override
  public void shutdown() {
    listener = null;
  }
}
