package dev.chassis.testsupport;

import dev.chassis.ChassisConfig;
import dev.chassis.server.ChassisServer;

/** Run in a child JVM by SigtermDrainTest: a server that traps SIGTERM like production. */
public final class DrainTestMain {
  private DrainTestMain() {}

  public static void main(String[] args) throws Exception {
    ChassisConfig config =
        ChassisConfig.of(TestServers.LOOPBACK)
            .with("chassis.shutdown { handle-signals = true, drain-delay = 500ms, grace = 10s }");
    ChassisServer server =
        ChassisServer.newBuilder(config).addService(new TestServiceImpl()).start();
    // The parent test reads this line to find the port (a test harness protocol, not logging).
    System.out.println("PORT=" + server.port());
    System.out.flush();
    server.awaitTermination();
  }
}
