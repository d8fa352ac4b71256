package dev.chassis.sample.user.repository;

/**
 * The database cannot be reached now (connection refused or lost, pool timed out, server shutting
 * down); retrying later may work.
 */
public final class RepositoryUnavailableException extends RepositoryException {
  private static final long serialVersionUID = 1L;

  public RepositoryUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
