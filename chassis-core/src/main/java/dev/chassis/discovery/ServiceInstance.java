package dev.chassis.discovery;

import java.util.List;
import java.util.Map;

/**
 * One running server as a registry sees it.
 *
 * @param id unique instance id
 * @param name service name ({@code chassis.service.name})
 * @param address address other services connect to
 * @param port port other services connect to
 * @param tags registry tags
 * @param meta registry metadata
 * @param tls whether the port serves TLS
 */
public record ServiceInstance(
    String id,
    String name,
    String address,
    int port,
    List<String> tags,
    Map<String, String> meta,
    boolean tls) {
  /** Copies the collections. */
  public ServiceInstance {
    tags = List.copyOf(tags);
    meta = Map.copyOf(meta);
  }
}
