package dev.chassis.errors;

import com.google.rpc.BadRequest;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code INVALID_ARGUMENT} with a {@code google.rpc.BadRequest} listing every field violation, so a
 * client can show each problem next to its field.
 *
 * <pre>{@code
 * InvalidArgumentException.Builder errors = InvalidArgumentException.newBuilder();
 * if (request.getName().isBlank()) errors.addViolation("name", "must not be empty");
 * errors.throwIfAny();
 * }</pre>
 */
public final class InvalidArgumentException extends ServiceException {
  private static final long serialVersionUID = 1L;

  @SuppressWarnings("serial") // an immutable list of records
  private final List<FieldViolation> violations;

  /** One invalid field: its path (such as {@code "email"} or {@code "items[2].sku"}) and why. */
  public record FieldViolation(String field, String description) {}

  private InvalidArgumentException(List<FieldViolation> violations) {
    super(Status.Code.INVALID_ARGUMENT, message(violations), List.of(badRequest(violations)), null);
    this.violations = violations;
  }

  /** A single violation. */
  public static InvalidArgumentException forField(String field, String description) {
    return newBuilder().addViolation(field, description).build();
  }

  /** Starts collecting violations. */
  public static Builder newBuilder() {
    return new Builder();
  }

  /** The violations, in the order they were added. */
  public List<FieldViolation> violations() {
    return violations;
  }

  private static String message(List<FieldViolation> violations) {
    return "invalid request: "
        + violations.stream()
            .map(v -> v.field() + " " + v.description())
            .collect(Collectors.joining("; "));
  }

  private static BadRequest badRequest(List<FieldViolation> violations) {
    BadRequest.Builder badRequest = BadRequest.newBuilder();
    for (FieldViolation violation : violations) {
      badRequest
          .addFieldViolationsBuilder()
          .setField(violation.field())
          .setDescription(violation.description());
    }
    return badRequest.build();
  }

  /** Collects field violations; not thread-safe. */
  public static final class Builder {
    private final List<FieldViolation> violations = new ArrayList<>();

    private Builder() {}

    /** Records that {@code field} is invalid, for example {@code ("email", "must be valid")}. */
    public Builder addViolation(String field, String description) {
      violations.add(new FieldViolation(field, description));
      return this;
    }

    /** Whether any violation was added. */
    public boolean hasViolations() {
      return !violations.isEmpty();
    }

    /** Throws the exception if any violation was added. */
    public void throwIfAny() {
      if (hasViolations()) {
        throw build();
      }
    }

    /**
     * Builds the exception.
     *
     * @throws IllegalStateException when no violation was added
     */
    public InvalidArgumentException build() {
      if (violations.isEmpty()) {
        throw new IllegalStateException("violations: none (expected: at least one)");
      }
      return new InvalidArgumentException(List.copyOf(violations));
    }
  }
}
