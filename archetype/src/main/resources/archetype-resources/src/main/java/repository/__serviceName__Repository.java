package ${package}.repository;

import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/** Stores items; implementations are safe for concurrent use. */
public interface ${serviceName}Repository {
  /** The item with {@code id}, if any. */
  Optional<${serviceName}Record> find(UUID id);

  /** Stores a new item and returns it. */
  ${serviceName}Record create(String name, String description);

  /** Up to {@code limit} items created after {@code after} (null: the first), oldest first. */
  List<${serviceName}Record> list(@Nullable UUID after, int limit);

  /** Whether the store answers: the readiness check. */
  boolean ping();
}
