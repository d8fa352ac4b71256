/** The gRPC handler. */
@NullMarked
package ${package}.handler;

import org.jspecify.annotations.NullMarked;
