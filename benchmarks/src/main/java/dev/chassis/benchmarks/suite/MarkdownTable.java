package dev.chassis.benchmarks.suite;

import java.util.ArrayList;
import java.util.List;

/** A GitHub-flavoured Markdown table; columns whose header starts with '>' are right-aligned. */
final class MarkdownTable {
  private final List<String> headers = new ArrayList<>();
  private final List<Boolean> right = new ArrayList<>();
  private final List<List<String>> rows = new ArrayList<>();

  MarkdownTable(String... headers) {
    for (String header : headers) {
      boolean alignRight = header.startsWith(">");
      this.headers.add(alignRight ? header.substring(1) : header);
      this.right.add(alignRight);
    }
  }

  MarkdownTable row(Object... cells) {
    if (cells.length != headers.size()) {
      throw new IllegalArgumentException(
          "row has " + cells.length + " cells, table has " + headers.size() + " columns");
    }
    List<String> row = new ArrayList<>();
    for (Object cell : cells) {
      row.add(String.valueOf(cell).replace("|", "\\|"));
    }
    rows.add(row);
    return this;
  }

  boolean isEmpty() {
    return rows.isEmpty();
  }

  @Override
  public String toString() {
    StringBuilder out = new StringBuilder();
    out.append("| ").append(String.join(" | ", headers)).append(" |\n|");
    for (boolean alignRight : right) {
      out.append(alignRight ? " ---: |" : " --- |");
    }
    out.append('\n');
    for (List<String> row : rows) {
      out.append("| ").append(String.join(" | ", row)).append(" |\n");
    }
    return out.toString();
  }
}
