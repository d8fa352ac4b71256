package dev.chassis.testing.consul;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** JSON output with Consul's field names kept verbatim (maps in insertion order, nulls kept). */
final class Json {

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final ObjectWriter COMPACT = MAPPER.writer();
  // Consul's ?pretty is Go's MarshalIndent with four spaces: "Key": value, {} and [] when empty.
  private static final ObjectWriter PRETTY =
      MAPPER.writer(
          new DefaultPrettyPrinter(
                  Separators.createDefaultInstance()
                      .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                      .withObjectEmptySeparator("")
                      .withArrayEmptySeparator(""))
              .withObjectIndenter(new DefaultIndenter("    ", "\n"))
              .withArrayIndenter(new DefaultIndenter("    ", "\n")));

  private Json() {}

  /** An ordered JSON object from alternating keys and values. */
  static Map<String, @Nullable Object> obj(@Nullable Object... keysAndValues) {
    Map<String, @Nullable Object> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put(String.valueOf(keysAndValues[i]), keysAndValues[i + 1]);
    }
    return map;
  }

  static byte[] write(@Nullable Object value, boolean pretty) {
    try {
      if (pretty) {
        return (PRETTY.writeValueAsString(value) + "\n")
            .getBytes(java.nio.charset.StandardCharsets.UTF_8);
      }
      return COMPACT.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** 64-bit FNV-1a of the compact encoding, in hex: a stand-in for Consul's content hash. */
  static String contentHash(Object value) {
    long hash = 0xcbf29ce484222325L;
    for (byte b : write(value, false)) {
      hash ^= b & 0xff;
      hash *= 0x100000001b3L;
    }
    return Long.toHexString(hash);
  }
}
