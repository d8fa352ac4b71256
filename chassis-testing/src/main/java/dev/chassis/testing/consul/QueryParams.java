package dev.chassis.testing.consul;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A raw query string parsed the way Go's {@code url.ParseQuery} does, which is what Consul sees:
 * repeated keys keep every value, a key without {@code =} or with an empty value is present, {@code
 * +} is a space, and malformed pairs (bad escapes, semicolons) are dropped.
 */
final class QueryParams {

  private final Map<String, List<String>> values;

  private QueryParams(Map<String, List<String>> values) {
    this.values = values;
  }

  static QueryParams parse(@Nullable String rawQuery) {
    Map<String, List<String>> values = new LinkedHashMap<>();
    if (rawQuery != null) {
      for (String pair : rawQuery.split("&", -1)) {
        if (pair.isEmpty() || pair.contains(";")) {
          continue;
        }
        int eq = pair.indexOf('=');
        String rawKey = eq < 0 ? pair : pair.substring(0, eq);
        String rawValue = eq < 0 ? "" : pair.substring(eq + 1);
        String key = unescape(rawKey);
        String value = unescape(rawValue);
        if (key == null || value == null) {
          continue;
        }
        values.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
      }
    }
    return new QueryParams(values);
  }

  /** Whether the key occurs at all, even as {@code ?stale} or {@code ?stale=}. */
  boolean has(String key) {
    return values.containsKey(key);
  }

  /** The first value of the key, or {@code ""} when it is absent (Go's {@code Values.Get}). */
  String first(String key) {
    List<String> all = values.get(key);
    return all == null ? "" : all.get(0);
  }

  /** Every value of the key in request order. */
  List<String> all(String key) {
    return values.getOrDefault(key, List.of());
  }

  /** Go's {@code url.QueryUnescape}; {@code null} when the escape is malformed. */
  private static @Nullable String unescape(String s) {
    if (s.indexOf('%') < 0 && s.indexOf('+') < 0) {
      return s;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '+') {
        out.write(' ');
      } else if (c == '%') {
        if (i + 2 >= s.length()) {
          return null;
        }
        int hi = Character.digit(s.charAt(i + 1), 16);
        int lo = Character.digit(s.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          return null;
        }
        out.write(hi * 16 + lo);
        i += 2;
      } else {
        int codePoint = s.codePointAt(i);
        byte[] bytes = new String(Character.toChars(codePoint)).getBytes(StandardCharsets.UTF_8);
        out.write(bytes, 0, bytes.length);
        i += Character.charCount(codePoint) - 1;
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
