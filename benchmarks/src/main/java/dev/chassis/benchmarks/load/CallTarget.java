package dev.chassis.benchmarks.load;

/** Something calls can be sent to, asynchronously: a gRPC method or a REST endpoint. */
interface CallTarget extends AutoCloseable {
  /** How one call ended. Exactly one call per call started; any thread. */
  interface Completion {
    /**
     * @param code the gRPC status code name, the HTTP status, or {@code ERROR:<exception>}
     * @param ok whether the call succeeded (OK, or a 2xx status)
     * @param messages response messages received (stream elements; 1 for a unary answer)
     */
    void done(String code, boolean ok, int messages);
  }

  /**
   * Starts call number {@code sequence} on connection {@code connection} (taken modulo the number
   * of connections); returns without waiting for the answer.
   */
  void start(long sequence, int connection, Completion completion);

  /** What is called, such as {@code user.v1.UserService/GetUser}. */
  String describe();

  @Override
  void close();
}
