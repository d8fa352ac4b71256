package dev.chassis.benchmarks.suite;

/**
 * What every step needs: the options, the classpath child JVMs run with, and the report.
 *
 * @param options the flags
 * @param classpath this module's whole runtime classpath, for child JVMs (system property {@code
 *     benchmarks.classpath}, else this JVM's)
 * @param report where results go
 */
record Suite(SuiteOptions options, String classpath, Report report) {}
