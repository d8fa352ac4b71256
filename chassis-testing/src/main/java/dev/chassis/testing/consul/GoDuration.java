package dev.chassis.testing.consul;

/**
 * Go's {@code time.ParseDuration} and {@code time.Duration.String()}, which Consul uses for every
 * duration on the wire ({@code "10s"}, {@code "1m30s"}, {@code "1.5h"}). {@link
 * java.time.Duration#parse} is ISO-8601 and does not fit.
 */
final class GoDuration {

  private static final long NANOSECOND = 1L;
  private static final long MICROSECOND = 1_000L;
  private static final long MILLISECOND = 1_000_000L;
  private static final long SECOND = 1_000_000_000L;
  private static final long MINUTE = 60 * SECOND;
  private static final long HOUR = 60 * MINUTE;

  /** 2^63 as an unsigned long, the bound Go checks against. */
  private static final long TWO_63 = Long.MIN_VALUE;

  private GoDuration() {}

  /** A Go duration parse error; the message is Go's, e.g. {@code time: invalid duration "x"}. */
  static final class FormatException extends Exception {
    private static final long serialVersionUID = 1L;

    FormatException(String message) {
      super(message, null, false, false);
    }
  }

  /** Parses like Go's {@code time.ParseDuration}, returning nanoseconds. */
  static long parse(String s) throws FormatException {
    String orig = s;
    boolean neg = false;
    int i = 0;
    if (!s.isEmpty() && (s.charAt(0) == '-' || s.charAt(0) == '+')) {
      neg = s.charAt(0) == '-';
      i = 1;
    }
    if (s.substring(i).equals("0")) {
      return 0;
    }
    if (i == s.length()) {
      throw invalid(orig);
    }
    long d = 0; // unsigned
    while (i < s.length()) {
      char c = s.charAt(i);
      if (!(c == '.' || (c >= '0' && c <= '9'))) {
        throw invalid(orig);
      }
      // Leading integer.
      int start = i;
      long v = 0; // unsigned
      while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
        if (Long.compareUnsigned(v, Long.divideUnsigned(TWO_63, 10)) > 0) {
          throw invalid(orig);
        }
        v = v * 10 + (s.charAt(i) - '0');
        if (Long.compareUnsigned(v, TWO_63) > 0) {
          throw invalid(orig);
        }
        i++;
      }
      boolean pre = i != start;
      // Fraction.
      boolean post = false;
      long f = 0;
      double scale = 1;
      if (i < s.length() && s.charAt(i) == '.') {
        i++;
        int fracStart = i;
        boolean overflow = false;
        while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
          if (!overflow) {
            if (Long.compareUnsigned(f, Long.divideUnsigned(Long.MAX_VALUE, 10)) > 0) {
              overflow = true; // Go ignores digits it can no longer represent
            } else {
              long y = f * 10 + (s.charAt(i) - '0');
              if (y < 0) {
                overflow = true;
              } else {
                f = y;
                scale *= 10;
              }
            }
          }
          i++;
        }
        post = i != fracStart;
      }
      if (!pre && !post) {
        throw invalid(orig);
      }
      // Unit.
      int unitStart = i;
      while (i < s.length()) {
        char u = s.charAt(i);
        if (u == '.' || (u >= '0' && u <= '9')) {
          break;
        }
        i++;
      }
      if (i == unitStart) {
        throw new FormatException("time: missing unit in duration " + quote(orig));
      }
      String u = s.substring(unitStart, i);
      long unit = unit(u);
      if (unit == 0) {
        throw new FormatException("time: unknown unit " + quote(u) + " in duration " + quote(orig));
      }
      if (Long.compareUnsigned(v, Long.divideUnsigned(TWO_63, unit)) > 0) {
        throw invalid(orig);
      }
      v *= unit;
      if (f > 0) {
        v += (long) ((double) f * ((double) unit / scale));
        if (Long.compareUnsigned(v, TWO_63) > 0) {
          throw invalid(orig);
        }
      }
      d += v;
      if (Long.compareUnsigned(d, TWO_63) > 0) {
        throw invalid(orig);
      }
    }
    if (neg) {
      return -d;
    }
    if (Long.compareUnsigned(d, Long.MAX_VALUE) > 0) {
      throw invalid(orig);
    }
    return d;
  }

  private static long unit(String u) {
    switch (u) {
      case "ns":
        return NANOSECOND;
      case "us":
      case "\u00b5s": // micro sign
      case "\u03bcs": // Greek mu
        return MICROSECOND;
      case "ms":
        return MILLISECOND;
      case "s":
        return SECOND;
      case "m":
        return MINUTE;
      case "h":
        return HOUR;
      default:
        return 0;
    }
  }

  private static FormatException invalid(String orig) {
    return new FormatException("time: invalid duration " + quote(orig));
  }

  /** Go's {@code strconv.Quote} for the characters that occur in practice. */
  static String quote(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"':
          b.append("\\\"");
          break;
        case '\\':
          b.append("\\\\");
          break;
        case '\n':
          b.append("\\n");
          break;
        case '\t':
          b.append("\\t");
          break;
        case '\r':
          b.append("\\r");
          break;
        default:
          if (c < 0x20 || c == 0x7f) {
            b.append(String.format("\\x%02x", (int) c));
          } else {
            b.append(c);
          }
      }
    }
    return b.append('"').toString();
  }

  /**
   * Formats like Go's {@code time.Duration.String()}: {@code 1m0s}, {@code 1.5s}, {@code 250ms}.
   */
  static String format(long nanos) {
    if (nanos == 0) {
      return "0s";
    }
    boolean neg = nanos < 0;
    long u = neg ? -nanos : nanos; // Long.MIN_VALUE stays negative; treated as unsigned below
    StringBuilder out = new StringBuilder();
    if (Long.compareUnsigned(u, SECOND) < 0) {
      int prec;
      String unit;
      if (u < MICROSECOND) {
        prec = 0;
        unit = "ns";
      } else if (u < MILLISECOND) {
        prec = 3;
        unit = "\u00b5s";
      } else {
        prec = 6;
        unit = "ms";
      }
      String[] fracAndRest = fraction(u, prec);
      out.append(fracAndRest[1]).append(fracAndRest[0]).append(unit);
    } else {
      String[] fracAndRest = fraction(u, 9);
      long secs = Long.parseUnsignedLong(fracAndRest[1]);
      StringBuilder tail = new StringBuilder();
      tail.append(Long.remainderUnsigned(secs, 60)).append(fracAndRest[0]).append('s');
      long mins = Long.divideUnsigned(secs, 60);
      if (mins > 0) {
        tail.insert(0, (mins % 60) + "m");
        long hours = mins / 60;
        if (hours > 0) {
          tail.insert(0, hours + "h");
        }
      }
      out.append(tail);
    }
    return neg ? "-" + out : out.toString();
  }

  /**
   * Splits {@code v} into the fraction of {@code v / 10^prec} (".5", trailing zeros and the point
   * omitted when zero) and the integer part as an unsigned decimal string.
   */
  private static String[] fraction(long v, int prec) {
    StringBuilder frac = new StringBuilder();
    boolean print = false;
    for (int i = 0; i < prec; i++) {
      long digit = Long.remainderUnsigned(v, 10);
      print = print || digit != 0;
      if (print) {
        frac.insert(0, (char) ('0' + digit));
      }
      v = Long.divideUnsigned(v, 10);
    }
    if (print) {
      frac.insert(0, '.');
    }
    return new String[] {frac.toString(), Long.toUnsignedString(v)};
  }
}
