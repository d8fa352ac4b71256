package dev.chassis.observability.logging;

import ch.qos.logback.classic.LoggerContext;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

/** Sets fields that every log line of the process carries. */
public final class LogContext {
  /** Logback context property (and JSON field) holding the service name. */
  public static final String SERVICE = "service";

  private LogContext() {}

  /**
   * Sets the {@code service} field of every following log line. The JSON fragment writes Logback
   * context properties as top-level fields. Does nothing when Logback is not the SLF4J backend.
   */
  public static void setServiceName(String serviceName) {
    ILoggerFactory factory = LoggerFactory.getILoggerFactory();
    if (factory instanceof LoggerContext context) {
      context.putProperty(SERVICE, serviceName);
    }
  }
}
