package dev.chassis.internal.tls;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class ReloadingTlsTest {
  @Test
  void keyReadableByOthers_isWarnedAbout_privateKeyIsNot(@TempDir Path dir) throws Exception {
    Path open = Files.writeString(dir.resolve("open.key"), "not a real key");
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-r--r--"));
    Path closed = Files.writeString(dir.resolve("closed.key"), "not a real key");
    Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rw-------"));
    Logger logger = (Logger) LoggerFactory.getLogger(ReloadingTls.class);
    ListAppender<ILoggingEvent> events = new ListAppender<>();
    events.start();
    logger.addAppender(events);
    try {
      ReloadingTls.warnIfReadableByOthers(open);
      ReloadingTls.warnIfReadableByOthers(closed);
    } finally {
      logger.detachAppender(events);
    }

    assertThat(events.list)
        .singleElement()
        .satisfies(
            event -> {
              assertThat(event.getLevel().toString()).isEqualTo("WARN");
              assertThat(event.getFormattedMessage())
                  .contains(open.toString())
                  .contains("chmod 600");
            });
  }
}
