package ${package}.repository;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/** Keeps items in memory, in creation order; lost on restart. */
public final class InMemory${serviceName}Repository implements ${serviceName}Repository {
  private final Map<UUID, ${serviceName}Record> byId = new ConcurrentHashMap<>();
  private final Map<UUID, Long> positions = new ConcurrentHashMap<>();
  private final ConcurrentSkipListMap<Long, ${serviceName}Record> inOrder;
  private final AtomicLong sequence = new AtomicLong();

  /** An empty repository. */
  public InMemory${serviceName}Repository() {
    inOrder = new ConcurrentSkipListMap<>();
  }

  @Override
  public Optional<${serviceName}Record> find(UUID id) {
    return Optional.ofNullable(byId.get(id));
  }

  @Override
  public ${serviceName}Record create(String name, String description) {
    UUID id = UUID.randomUUID();
    var record = new ${serviceName}Record(id, name, description, Instant.now());
    long position = sequence.incrementAndGet();
    byId.put(id, record);
    positions.put(id, position);
    inOrder.put(position, record);
    return record;
  }

  @Override
  public List<${serviceName}Record> list(@Nullable UUID after, int limit) {
    long from = 0;
    if (after != null) {
      from = positions.getOrDefault(after, Long.MAX_VALUE);
    }
    List<${serviceName}Record> page = new ArrayList<>();
    for (var record : inOrder.tailMap(from, false).values()) {
      if (page.size() >= limit) {
        break;
      }
      page.add(record);
    }
    return page;
  }

  @Override
  public boolean ping() {
    return true;
  }
}
