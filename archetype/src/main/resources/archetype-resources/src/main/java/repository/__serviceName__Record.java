package ${package}.repository;

import java.time.Instant;
import java.util.UUID;

/**
 * One stored item.
 *
 * @param id its id
 * @param name its name, never blank
 * @param description free text, possibly empty
 * @param created when it was created
 */
public record ${serviceName}Record(UUID id, String name, String description, Instant created) {}
