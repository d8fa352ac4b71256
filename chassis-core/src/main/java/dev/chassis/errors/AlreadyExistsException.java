package dev.chassis.errors;

import io.grpc.Status;
import java.util.List;

/**
 * {@code ALREADY_EXISTS}: the caller tried to create something whose unique key is taken. Carries a
 * {@code google.rpc.ResourceInfo}.
 *
 * <pre>{@code
 * throw new AlreadyExistsException("user", email, "a user with this email already exists");
 * }</pre>
 */
public final class AlreadyExistsException extends ServiceException {
  private static final long serialVersionUID = 1L;

  /**
   * @param resourceType such as {@code "user"}
   * @param resourceName the key that is taken
   * @param message shown to the caller
   */
  public AlreadyExistsException(String resourceType, String resourceName, String message) {
    super(
        Status.Code.ALREADY_EXISTS,
        message,
        List.of(resourceInfo(resourceType, resourceName)),
        null);
  }
}
