package dev.chassis.sample.user.repository;

/**
 * A domain error: another user has this email (compared case-insensitively). The handler turns it
 * into gRPC's {@code ALREADY_EXISTS}; the repository knows nothing about gRPC.
 */
public final class EmailAlreadyUsedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String email;

  public EmailAlreadyUsedException(String email) {
    super("email already used");
    this.email = email;
  }

  /** The email as the caller gave it. */
  public String email() {
    return email;
  }
}
