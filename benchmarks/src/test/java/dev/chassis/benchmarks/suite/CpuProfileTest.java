package dev.chassis.benchmarks.suite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CpuProfileTest {
  @TempDir Path dir;

  @Test
  void chargesEachSampleToTheFirstFrameOutsideTheJdk() throws Exception {
    Path collapsed = dir.resolve("profile.collapsed");
    Files.writeString(
        collapsed,
        String.join(
            "\n",
            // Netty writing to a socket: the kernel and JDK frames below it count as Netty.
            "java/lang/Thread.run;io/grpc/netty/shaded/io/netty/channel/epoll/Native.epollWait0;"
                + "epoll_wait;entry_SYSCALL_64 30",
            // A HashMap put made by OpenTelemetry counts as OpenTelemetry.
            "java/lang/Thread.run;dev/chassis/observability/tracing/X.y;"
                + "io/opentelemetry/sdk/trace/SdkSpanBuilder.startSpan;java/util/HashMap.put 20",
            "java/lang/Thread.run;dev/chassis/resilience/Limit.acquire 10",
            "java/lang/Thread.run;java/util/concurrent/ThreadPoolExecutor.getTask 15",
            "G1ParScanThreadState::trim_queue();G1ParEvacuateFollowersClosure::do_void() 25",
            ""));

    CpuProfile profile = CpuProfile.read(collapsed);

    assertThat(profile.total()).isEqualTo(100);
    assertThat(profile.share("Netty (HTTP/2 codec, sockets)")).isCloseTo(0.30, within(1e-9));
    assertThat(profile.share("OpenTelemetry (tracing, context bridge)"))
        .isCloseTo(0.20, within(1e-9));
    assertThat(profile.share("Chassis interceptors")).isCloseTo(0.10, within(1e-9));
    assertThat(profile.share(CpuProfile.JDK_ONLY)).isCloseTo(0.15, within(1e-9));
    assertThat(profile.share(CpuProfile.JVM)).isCloseTo(0.25, within(1e-9));
    assertThat(profile.hottest(1))
        .containsOnlyKeys("io.grpc.netty.shaded.io.netty.channel.epoll.Native.epollWait0");
  }
}
