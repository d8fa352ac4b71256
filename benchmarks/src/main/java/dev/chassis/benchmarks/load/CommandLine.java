package dev.chassis.benchmarks.load;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A benchmark tool's parsed command line: switches (flags alone), flags followed by a value (the
 * last one given wins), and at most one argument that is not a flag, the target.
 */
public final class CommandLine {
  private final @Nullable String target;
  private final Set<String> switches;
  private final Map<String, String> values;

  private CommandLine(@Nullable String target, Set<String> switches, Map<String, String> values) {
    this.target = target;
    this.switches = switches;
    this.values = values;
  }

  /**
   * Parses {@code args} against the flags a tool knows.
   *
   * @throws IllegalArgumentException for an unknown flag, a flag without its value, or a second
   *     argument that is not a flag
   */
  public static CommandLine parse(String[] args, Set<String> switchFlags, Set<String> valueFlags) {
    String target = null;
    Set<String> switches = new HashSet<>();
    Map<String, String> values = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (switchFlags.contains(flag)) {
        switches.add(flag);
      } else if (!flag.startsWith("-")) {
        if (target != null) {
          throw new IllegalArgumentException("unexpected argument: " + flag);
        }
        target = flag;
      } else if (!valueFlags.contains(flag)) {
        throw new IllegalArgumentException("unknown flag: " + flag);
      } else if (i + 1 >= args.length) {
        throw new IllegalArgumentException(flag + ": missing value");
      } else {
        values.put(flag, args[++i]);
      }
    }
    return new CommandLine(target, switches, values);
  }

  /** The argument that is not a flag, or null. */
  public @Nullable String target() {
    return target;
  }

  /** Whether the switch was given. */
  public boolean has(String switchFlag) {
    return switches.contains(switchFlag);
  }

  /** The flag's value, or null when it was not given. */
  public @Nullable String value(String flag) {
    return values.get(flag);
  }

  /** The flag's value, or {@code fallback}. */
  public String string(String flag, String fallback) {
    return values.getOrDefault(flag, fallback);
  }

  /** The flag's whole number, or {@code fallback}. */
  public int integer(String flag, int fallback) {
    return (int) number(flag, fallback, Integer.MIN_VALUE, Integer.MAX_VALUE);
  }

  /** The flag's whole number, or {@code fallback}. */
  public long longInteger(String flag, long fallback) {
    return number(flag, fallback, Long.MIN_VALUE, Long.MAX_VALUE);
  }

  /** The flag's number, or {@code fallback}. */
  public double decimal(String flag, double fallback) {
    String value = values.get(flag);
    if (value == null) {
      return fallback;
    }
    try {
      return Double.parseDouble(value);
    } catch (NumberFormatException e) {
      throw notANumber(flag, value, e);
    }
  }

  private long number(String flag, long fallback, long min, long max) {
    String value = values.get(flag);
    if (value == null) {
      return fallback;
    }
    try {
      long number = Long.parseLong(value);
      if (number < min || number > max) {
        throw new NumberFormatException("out of range");
      }
      return number;
    } catch (NumberFormatException e) {
      throw notANumber(flag, value, e);
    }
  }

  private static IllegalArgumentException notANumber(
      String flag, String value, NumberFormatException e) {
    return new IllegalArgumentException(flag + ": not a number: " + value, e);
  }
}
