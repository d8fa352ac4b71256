package dev.chassis.benchmarks.suite;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What the suite found: Markdown sections in order, the targets with where each stands, and every
 * raw measurement as one JSON object per line ({@code raw.jsonl}).
 */
final class Report {
  static final ObjectMapper JSON = new ObjectMapper();

  private final Path dir;
  private final StringBuilder sections = new StringBuilder();
  private final List<String[]> targets = new ArrayList<>();

  Report(Path dir) throws IOException {
    this.dir = dir;
    Files.createDirectories(dir);
    Files.deleteIfExists(dir.resolve("raw.jsonl"));
  }

  Path dir() {
    return dir;
  }

  /** Adds a section: a {@code ###} heading, then the text (tables, notes). */
  void section(String heading, String markdown) {
    sections.append("### ").append(heading).append("\n\n").append(markdown.strip()).append("\n\n");
  }

  /** Records where one target stands. */
  void target(String target, String measured, boolean met) {
    targets.add(new String[] {target, measured, met ? "met" : "**missed**"});
  }

  /** Appends one raw measurement, tagged with {@code step}. */
  synchronized void raw(String step, ObjectNode measurement) throws IOException {
    measurement.put("step", step);
    Files.writeString(
        dir.resolve("raw.jsonl"),
        JSON.writeValueAsString(measurement) + "\n",
        StandardCharsets.UTF_8,
        StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
  }

  /** Writes {@code results.md} (header, targets, sections) and returns its text. */
  String write(String header) throws IOException {
    StringBuilder out = new StringBuilder(header.strip()).append("\n\n");
    if (!targets.isEmpty()) {
      MarkdownTable table = new MarkdownTable("target", "measured", "verdict");
      for (String[] row : targets) {
        table.row((Object[]) row);
      }
      out.append("### Targets\n\n").append(table).append('\n');
    }
    out.append(sections);
    String text = out.toString().strip() + "\n";
    Files.writeString(dir.resolve("results.md"), text, StandardCharsets.UTF_8);
    return text;
  }

  static String format(String pattern, Object... args) {
    return String.format(Locale.ROOT, pattern, args);
  }
}
