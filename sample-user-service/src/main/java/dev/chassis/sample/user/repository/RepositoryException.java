package dev.chassis.sample.user.repository;

/**
 * The repository failed for a reason the caller cannot fix (a bug, a broken schema). The message
 * and cause are for the log only; callers answer with a generic error.
 */
public class RepositoryException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public RepositoryException(String message, Throwable cause) {
    super(message, cause);
  }
}
