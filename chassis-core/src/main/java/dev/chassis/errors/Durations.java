package dev.chassis.errors;

import java.time.Duration;

/** Converts between {@link Duration} and {@code google.protobuf.Duration}. */
final class Durations {
  private Durations() {}

  static com.google.protobuf.Duration toProto(Duration duration) {
    return com.google.protobuf.Duration.newBuilder()
        .setSeconds(duration.getSeconds())
        .setNanos(duration.getNano())
        .build();
  }
}
