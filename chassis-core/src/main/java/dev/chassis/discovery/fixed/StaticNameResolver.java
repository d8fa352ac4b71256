package dev.chassis.discovery.fixed;

import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.Status;
import io.grpc.StatusOr;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Hands grpc the fixed address list, one {@link EquivalentAddressGroup} per entry. Host names are
 * resolved on {@link #start} and again on each {@link #refresh}.
 */
final class StaticNameResolver extends NameResolver {
  private final String authority;
  private final List<StaticNameResolverProvider.HostAndPort> entries;
  private @Nullable Listener2 listener;

  StaticNameResolver(String authority, List<StaticNameResolverProvider.HostAndPort> entries) {
    this.authority = authority;
    this.entries = entries;
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
    Listener2 listener = this.listener;
    if (listener == null) {
      return;
    }
    List<EquivalentAddressGroup> groups = new ArrayList<>(entries.size());
    for (StaticNameResolverProvider.HostAndPort entry : entries) {
      EquivalentAddressGroup group = entry.toAddressGroup();
      if (((InetSocketAddress) group.getAddresses().get(0)).isUnresolved()) {
        listener.onError(Status.UNAVAILABLE.withDescription("cannot resolve host " + entry));
        return;
      }
      groups.add(group);
    }
    listener.onResult2(
        ResolutionResult.newBuilder().setAddressesOrError(StatusOr.fromValue(groups)).build());
  }

  @Override
  public void shutdown() {
    listener = null;
  }
}
