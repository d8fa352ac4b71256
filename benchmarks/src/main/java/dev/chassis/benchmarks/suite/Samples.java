package dev.chassis.benchmarks.suite;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/** Repeated measurements of one figure: median and spread (min..max). */
final class Samples {
  private final List<Double> values = new ArrayList<>();

  void add(double value) {
    if (!Double.isNaN(value)) {
      values.add(value);
    }
  }

  boolean isEmpty() {
    return values.isEmpty();
  }

  int size() {
    return values.size();
  }

  double median() {
    if (values.isEmpty()) {
      return Double.NaN;
    }
    List<Double> sorted = sorted();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  double min() {
    return values.isEmpty() ? Double.NaN : Collections.min(values);
  }

  double max() {
    return values.isEmpty() ? Double.NaN : Collections.max(values);
  }

  /** {@code median (min–max)} with {@code decimals} decimals, or a dash when empty. */
  String describe(int decimals) {
    if (values.isEmpty()) {
      return "–";
    }
    if (values.size() == 1) {
      return number(median(), decimals);
    }
    return number(median(), decimals)
        + " ("
        + number(min(), decimals)
        + "–"
        + number(max(), decimals)
        + ")";
  }

  private List<Double> sorted() {
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    return sorted;
  }

  /** A number with thousands separators and {@code decimals} decimals; a dash for NaN. */
  static String number(double value, int decimals) {
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      return "–";
    }
    return String.format(Locale.ROOT, "%,." + decimals + "f", value);
  }

  /** {@code value / base} as {@code 0.93×}; a dash when either is missing. */
  static String ratio(double value, double base) {
    if (Double.isNaN(value) || Double.isNaN(base) || base == 0) {
      return "–";
    }
    return String.format(Locale.ROOT, "%.2f×", value / base);
  }

  /** {@code value - base} with a sign, such as {@code +12.0}; a dash when either is missing. */
  static String delta(double value, double base, int decimals) {
    if (Double.isNaN(value) || Double.isNaN(base)) {
      return "–";
    }
    return String.format(Locale.ROOT, "%+,." + decimals + "f", value - base);
  }
}
