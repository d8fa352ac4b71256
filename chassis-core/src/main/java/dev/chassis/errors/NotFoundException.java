package dev.chassis.errors;

import io.grpc.Status;
import java.util.List;

/**
 * {@code NOT_FOUND}: the entity the caller named does not exist. Carries a {@code
 * google.rpc.ResourceInfo} with the resource type and name.
 *
 * <pre>{@code
 * throw new NotFoundException("user", id);   // "user 42 not found"
 * }</pre>
 */
public final class NotFoundException extends ServiceException {
  private static final long serialVersionUID = 1L;

  /**
   * @param resourceType what was looked up, such as {@code "user"}
   * @param resourceName the caller's identifier for it
   */
  public NotFoundException(String resourceType, String resourceName) {
    super(
        Status.Code.NOT_FOUND,
        resourceType + " " + resourceName + " not found",
        List.of(resourceInfo(resourceType, resourceName)),
        null);
  }
}
