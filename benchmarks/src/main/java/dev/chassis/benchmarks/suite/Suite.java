package dev.chassis.benchmarks.suite;

/**
 * What every step needs: the options, the classpath child JVMs run with, and the report.
 *
 * @param options the flags
 * @param classpath this module's runtime classpath (this JVM's)
 * @param report where results go
 */
record Suite(SuiteOptions options, String classpath, Report report) {}
