/** Storage: the repository interface and an in-memory implementation. */
@NullMarked
package ${package}.repository;

import org.jspecify.annotations.NullMarked;
