package dev.chassis.internal.grpcweb;

import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Files under a class-path directory served by GET on the gRPC-Web port, such as a browser client
 * page ({@code index.html} at {@code /}). Read once, then kept in memory: meant for a few small
 * files that ship in the service's jar.
 */
public final class StaticResources {
  private static final Map<String, String> TYPES =
      Map.ofEntries(
          Map.entry("html", "text/html; charset=utf-8"),
          Map.entry("js", "text/javascript; charset=utf-8"),
          Map.entry("mjs", "text/javascript; charset=utf-8"),
          Map.entry("css", "text/css; charset=utf-8"),
          Map.entry("json", "application/json"),
          Map.entry("map", "application/json"),
          Map.entry("txt", "text/plain; charset=utf-8"),
          Map.entry("svg", "image/svg+xml"),
          Map.entry("png", "image/png"),
          Map.entry("ico", "image/x-icon"),
          Map.entry("wasm", "application/wasm"));

  private final String directory;
  private final ClassLoader classLoader;
  private final Map<String, Resource> cache = new ConcurrentHashMap<>();

  /** A file's bytes and content type. */
  record Resource(byte[] content, String contentType) {}

  private StaticResources(String directory, ClassLoader classLoader) {
    this.directory = directory;
    this.classLoader = classLoader;
  }

  /**
   * Serves the class-path directory {@code directory} (such as {@code "web"}) from {@code
   * classLoader}.
   */
  public static StaticResources of(String directory, ClassLoader classLoader) {
    String trimmed = directory.replaceAll("^/+|/+$", "");
    if (trimmed.isEmpty() || trimmed.contains("..")) {
      throw new IllegalArgumentException(
          "directory: " + directory + " (expected: a class-path directory such as web)");
    }
    return new StaticResources(trimmed, classLoader);
  }

  /** The file for a request path, or null when there is none (404). */
  @Nullable Resource find(String path) throws IOException {
    String relative = path.equals("/") || path.isEmpty() ? "index.html" : path.substring(1);
    if (relative.endsWith("/")) {
      relative += "index.html";
    }
    if (relative.contains("..") || relative.contains("\\") || relative.startsWith("/")) {
      return null;
    }
    Resource cached = cache.get(relative);
    if (cached != null) {
      return cached;
    }
    try (InputStream in = classLoader.getResourceAsStream(directory + "/" + relative)) {
      if (in == null) {
        return null;
      }
      Resource resource = new Resource(in.readAllBytes(), contentType(relative));
      cache.put(relative, resource);
      return resource;
    }
  }

  private static String contentType(String file) {
    int dot = file.lastIndexOf('.');
    String extension = dot < 0 ? "" : file.substring(dot + 1).toLowerCase(Locale.ROOT);
    return TYPES.getOrDefault(extension, "application/octet-stream");
  }

  @Override
  public String toString() {
    return "classpath:" + directory + "/";
  }
}
