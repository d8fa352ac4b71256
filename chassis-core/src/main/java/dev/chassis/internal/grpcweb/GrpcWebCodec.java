package dev.chassis.internal.grpcweb;

import io.grpc.Metadata;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The gRPC-Web wire format (grpc/grpc-web {@code PROTOCOL-WEB.md}): length-prefixed frames, the
 * trailer frame, base64 text mode, {@code grpc-timeout}, and the mapping between HTTP headers and
 * gRPC metadata.
 */
final class GrpcWebCodec {
  static final byte MESSAGE_FLAG = 0x00;
  static final byte COMPRESSED_FLAG = 0x01;
  static final byte TRAILER_FLAG = (byte) 0x80;
  static final int HEADER_LENGTH = 5;

  /**
   * Request headers that are HTTP's, the browser's or gRPC-Web's own, not the caller's metadata.
   * {@code grpc-timeout} becomes the deadline and {@code grpc-encoding} is checked separately.
   */
  private static final Set<String> NOT_METADATA =
      Set.of(
          "host",
          "connection",
          "keep-alive",
          "proxy-connection",
          "transfer-encoding",
          "upgrade",
          "te",
          "content-length",
          "content-type",
          "accept",
          "accept-encoding",
          "accept-language",
          "cache-control",
          "pragma",
          "priority",
          "origin",
          "referer",
          "dnt",
          "x-grpc-web",
          "grpc-timeout",
          "grpc-encoding",
          "grpc-accept-encoding");

  private GrpcWebCodec() {}

  /** The two content types of gRPC-Web; the response uses the request's. */
  enum Format {
    BINARY("application/grpc-web+proto"),
    TEXT("application/grpc-web-text+proto");

    private final String responseContentType;

    Format(String responseContentType) {
      this.responseContentType = responseContentType;
    }

    String responseContentType() {
      return responseContentType;
    }

    /**
     * The format of a request's {@code content-type}, or null when it is not gRPC-Web: {@code
     * application/grpc-web}, {@code application/grpc-web+proto}, {@code application/grpc-web-text}
     * and {@code application/grpc-web-text+proto}, parameters ignored.
     */
    static @Nullable Format of(@Nullable String contentType) {
      if (contentType == null) {
        return null;
      }
      String type = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
      return switch (type) {
        case "application/grpc-web", "application/grpc-web+proto" -> BINARY;
        case "application/grpc-web-text", "application/grpc-web-text+proto" -> TEXT;
        default -> null;
      };
    }
  }

  /** A request body that does not follow the protocol; the call ends with {@link #status}. */
  static final class MalformedException extends Exception {
    private static final long serialVersionUID = 1L;
    private final transient Status status;

    MalformedException(Status status) {
      super(status.getDescription(), null, false, false);
      this.status = status;
    }

    Status status() {
      return status;
    }
  }

  /**
   * Decodes a text-mode body: base64, possibly several padded pieces one after another (the
   * protocol lets a client encode each chunk separately), whitespace ignored.
   */
  static byte[] decodeText(byte[] body) throws MalformedException {
    StringBuilder text = new StringBuilder(body.length);
    for (byte b : body) {
      if (!Character.isWhitespace(b)) {
        text.append((char) (b & 0xff));
      }
    }
    if (text.length() % 4 != 0) {
      throw new MalformedException(
          Status.INTERNAL.withDescription("grpc-web-text body is not base64 (length)"));
    }
    Base64.Decoder decoder = Base64.getDecoder();
    byte[] out = new byte[text.length() / 4 * 3];
    int written = 0;
    int start = 0;
    try {
      for (int i = 0; i < text.length(); i += 4) {
        boolean padded = text.charAt(i + 3) == '=';
        if (padded || i + 4 == text.length()) {
          byte[] piece = decoder.decode(text.substring(start, i + 4));
          System.arraycopy(piece, 0, out, written, piece.length);
          written += piece.length;
          start = i + 4;
        }
      }
    } catch (IllegalArgumentException e) {
      throw new MalformedException(
          Status.INTERNAL.withDescription("grpc-web-text body is not base64").withCause(e));
    }
    byte[] exact = new byte[written];
    System.arraycopy(out, 0, exact, 0, written);
    return exact;
  }

  /**
   * Splits a (decoded) body into its messages.
   *
   * @throws MalformedException for a truncated frame, a compressed or trailer frame, or a message
   *     above {@code maxMessageSize} (RESOURCE_EXHAUSTED, as grpc-java answers)
   */
  static List<byte[]> messages(byte[] body, int maxMessageSize) throws MalformedException {
    List<byte[]> messages = new ArrayList<>(1);
    int position = 0;
    while (position < body.length) {
      if (body.length - position < HEADER_LENGTH) {
        throw new MalformedException(
            Status.INTERNAL.withDescription("truncated gRPC-Web frame header"));
      }
      byte flag = body[position];
      long length =
          ((body[position + 1] & 0xffL) << 24)
              | ((body[position + 2] & 0xffL) << 16)
              | ((body[position + 3] & 0xffL) << 8)
              | (body[position + 4] & 0xffL);
      if ((flag & COMPRESSED_FLAG) != 0) {
        throw new MalformedException(
            Status.UNIMPLEMENTED.withDescription("compressed gRPC-Web messages are not supported"));
      }
      if (flag != MESSAGE_FLAG) {
        throw new MalformedException(
            Status.INTERNAL.withDescription("unexpected gRPC-Web frame type " + flag));
      }
      if (length > maxMessageSize) {
        throw new MalformedException(tooLarge(length, maxMessageSize));
      }
      position += HEADER_LENGTH;
      if (body.length - position < length) {
        throw new MalformedException(Status.INTERNAL.withDescription("truncated gRPC-Web message"));
      }
      byte[] message = new byte[(int) length];
      System.arraycopy(body, position, message, 0, message.length);
      messages.add(message);
      position += message.length;
    }
    return messages;
  }

  /** The status grpc-java gives a message above the limit. */
  static Status tooLarge(long size, int maxMessageSize) {
    return Status.RESOURCE_EXHAUSTED.withDescription(
        String.format(
            Locale.ROOT, "gRPC message exceeds maximum size %d: %d", maxMessageSize, size));
  }

  /** A frame: flag, big-endian length, payload. */
  static byte[] frame(byte flag, byte[] payload) {
    byte[] frame = new byte[HEADER_LENGTH + payload.length];
    frame[0] = flag;
    frame[1] = (byte) (payload.length >>> 24);
    frame[2] = (byte) (payload.length >>> 16);
    frame[3] = (byte) (payload.length >>> 8);
    frame[4] = (byte) payload.length;
    System.arraycopy(payload, 0, frame, HEADER_LENGTH, payload.length);
    return frame;
  }

  /** A frame as it goes out: as is, or in text mode its own padded base64 piece. */
  static byte[] onTheWire(Format format, byte[] frame) {
    return format == Format.TEXT ? Base64.getEncoder().encode(frame) : frame;
  }

  /**
   * The trailer frame's payload: {@code grpc-status}, {@code grpc-message} (percent-encoded) and
   * the trailers, as HTTP/1 header lines with lower-case names.
   */
  static byte[] trailerBlock(Status status, Metadata trailers) {
    StringBuilder block = new StringBuilder(64);
    block.append("grpc-status:").append(status.getCode().value()).append("\r\n");
    if (status.getDescription() != null) {
      block.append("grpc-message:").append(percentEncode(status.getDescription())).append("\r\n");
    }
    for (String[] header : headers(trailers)) {
      block.append(header[0]).append(':').append(header[1]).append("\r\n");
    }
    return block.toString().getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * Metadata as {@code [name, value]} pairs for HTTP: binary ({@code -bin}) values in base64,
   * reserved gRPC names left out.
   */
  static List<String[]> headers(Metadata metadata) {
    List<String[]> headers = new ArrayList<>();
    for (String name : metadata.keys()) {
      if (name.equals("grpc-status") || name.equals("grpc-message") || name.startsWith(":")) {
        continue;
      }
      if (name.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
        Metadata.Key<byte[]> key = Metadata.Key.of(name, Metadata.BINARY_BYTE_MARSHALLER);
        Iterable<byte[]> values = metadata.getAll(key);
        if (values != null) {
          for (byte[] value : values) {
            headers.add(new String[] {name, Base64.getEncoder().encodeToString(value)});
          }
        }
      } else {
        Metadata.Key<String> key = Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER);
        Iterable<String> values = metadata.getAll(key);
        if (values != null) {
          for (String value : values) {
            headers.add(new String[] {name, value});
          }
        }
      }
    }
    return headers;
  }

  /**
   * Adds a request header to {@code metadata} unless it is HTTP's or the browser's own; binary
   * values are base64 (padded or not).
   *
   * @return false when a binary value is not base64
   */
  static boolean addRequestHeader(Metadata metadata, String rawName, String value) {
    String name = rawName.toLowerCase(Locale.ROOT);
    if (name.startsWith(":") || name.startsWith("sec-") || NOT_METADATA.contains(name)) {
      return true;
    }
    try {
      if (name.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
        for (String piece : value.split(",")) {
          metadata.put(
              Metadata.Key.of(name, Metadata.BINARY_BYTE_MARSHALLER),
              Base64.getDecoder().decode(piece.trim()));
        }
      } else {
        metadata.put(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER), value);
      }
      return true;
    } catch (IllegalArgumentException e) {
      return false; // a name grpc rejects, or a -bin value that is not base64
    }
  }

  /**
   * The {@code grpc-timeout} header in nanoseconds: up to 8 digits and a unit (H, M, S, m, u, n).
   *
   * @return null when absent
   * @throws MalformedException when it does not parse
   */
  static @Nullable Long timeoutNanos(@Nullable String header) throws MalformedException {
    if (header == null) {
      return null;
    }
    String value = header.trim();
    if (value.length() < 2 || value.length() > 9) {
      throw badTimeout(header);
    }
    long amount;
    try {
      amount = Long.parseLong(value.substring(0, value.length() - 1));
    } catch (NumberFormatException e) {
      throw badTimeout(header);
    }
    if (amount < 0) {
      throw badTimeout(header);
    }
    TimeUnit unit =
        switch (value.charAt(value.length() - 1)) {
          case 'H' -> TimeUnit.HOURS;
          case 'M' -> TimeUnit.MINUTES;
          case 'S' -> TimeUnit.SECONDS;
          case 'm' -> TimeUnit.MILLISECONDS;
          case 'u' -> TimeUnit.MICROSECONDS;
          case 'n' -> TimeUnit.NANOSECONDS;
          default -> throw badTimeout(header);
        };
    return unit.toNanos(amount);
  }

  private static MalformedException badTimeout(String header) {
    return new MalformedException(
        Status.INTERNAL.withDescription("malformed grpc-timeout header: " + header));
  }

  /**
   * {@code grpc-message}'s encoding: UTF-8, with bytes outside printable ASCII and {@code %} as
   * {@code %XX}.
   */
  static String percentEncode(String message) {
    byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
    StringBuilder encoded = new StringBuilder(bytes.length);
    for (byte b : bytes) {
      int c = b & 0xff;
      if (c >= 0x20 && c < 0x7f && c != '%') {
        encoded.append((char) c);
      } else {
        encoded.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)));
        encoded.append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return encoded.toString();
  }
}
