package dev.chassis.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A gRPC-Web client written from the protocol text (grpc/grpc-web PROTOCOL-WEB.md), independent of
 * the server's codec: frames requests, decodes text mode quartet by quartet, splits message and
 * trailer frames. Over the JDK's HTTP/1.1 client.
 */
public final class GrpcWebTestClient {
  /** The protocol's two modes. */
  public enum Mode {
    BINARY("application/grpc-web+proto"),
    TEXT("application/grpc-web-text");

    final String contentType;

    Mode(String contentType) {
      this.contentType = contentType;
    }
  }

  /** What came back: HTTP status and headers, the messages, and the trailers. */
  public record Reply(
      int httpStatus,
      Map<String, List<String>> headers,
      List<byte[]> messages,
      Map<String, String> trailers) {
    public int grpcStatus() {
      return Integer.parseInt(trailers.getOrDefault("grpc-status", "-1"));
    }

    public String grpcMessage() {
      return java.net.URLDecoder.decode(
          trailers.getOrDefault("grpc-message", "").replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    public String header(String name) {
      List<String> values = headers.get(name);
      return values == null || values.isEmpty() ? null : values.get(0);
    }

    public <T> List<T> messages(com.google.protobuf.Parser<T> parser)
        throws InvalidProtocolBufferException {
      List<T> parsed = new ArrayList<>();
      for (byte[] message : messages) {
        parsed.add(parser.parseFrom(message));
      }
      return parsed;
    }
  }

  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private final String base;

  public GrpcWebTestClient(int port) {
    this.base = "http://127.0.0.1:" + port;
  }

  /** A body of one message frame. */
  public static byte[] frame(MessageLite message) {
    return frame(message.toByteArray());
  }

  public static byte[] frame(byte[] payload) {
    ByteBuffer frame = ByteBuffer.allocate(5 + payload.length);
    frame.put((byte) 0).putInt(payload.length).put(payload);
    return frame.array();
  }

  /** Calls {@code fullMethodName} with {@code body} (frames) and extra headers (name, value...). */
  public Reply call(String fullMethodName, Mode mode, byte[] body, String... headers)
      throws Exception {
    byte[] sent = mode == Mode.TEXT ? Base64.getEncoder().encode(body) : body;
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base + "/" + fullMethodName))
            .timeout(Duration.ofSeconds(20))
            .header("content-type", mode.contentType)
            .header("x-grpc-web", "1")
            .POST(HttpRequest.BodyPublishers.ofByteArray(sent));
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    HttpResponse<byte[]> response =
        http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    return parse(response, mode);
  }

  /** A plain request, for CORS and static files. */
  public HttpResponse<byte[]> send(String method, String path, String... headers) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base + path))
            .timeout(Duration.ofSeconds(20))
            .method(method, HttpRequest.BodyPublishers.noBody());
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  /** Parses a gRPC-Web response body (also one read by another client, such as nghttp). */
  public static Reply parse(HttpResponse<byte[]> response, Mode mode) {
    byte[] body = mode == Mode.TEXT ? decodeQuartets(response.body()) : response.body();
    return parse(response.statusCode(), response.headers().map(), body);
  }

  public static Reply parse(int status, Map<String, List<String>> headers, byte[] body) {
    List<byte[]> messages = new ArrayList<>();
    Map<String, String> trailers = new LinkedHashMap<>();
    ByteBuffer in = ByteBuffer.wrap(body);
    while (in.remaining() > 0) {
      assertThat(in.remaining()).as("frame header").isGreaterThanOrEqualTo(5);
      byte flag = in.get();
      int length = in.getInt();
      byte[] payload = new byte[length];
      in.get(payload);
      if ((flag & 0x80) != 0) {
        assertThat(in.remaining()).as("nothing after the trailer frame").isZero();
        for (String line : new String(payload, StandardCharsets.US_ASCII).split("\r\n")) {
          if (!line.isEmpty()) {
            int colon = line.indexOf(':');
            trailers.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
          }
        }
      } else {
        assertThat(flag).as("message frame flag").isZero();
        messages.add(payload);
      }
    }
    return new Reply(status, headers, messages, trailers);
  }

  /** Base64 text that may hold several padded pieces, decoded four characters at a time. */
  public static byte[] decodeQuartets(byte[] text) {
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    String s = new String(text, StandardCharsets.US_ASCII).strip();
    assertThat(s.length() % 4).as("base64 length").isZero();
    for (int i = 0; i < s.length(); i += 4) {
      int[] v = new int[4];
      int pad = 0;
      for (int j = 0; j < 4; j++) {
        char c = s.charAt(i + j);
        if (c == '=') {
          pad++;
          v[j] = 0;
        } else {
          v[j] = alphabet.indexOf(c);
          assertThat(v[j]).as("base64 character %s", c).isNotNegative();
        }
      }
      int bits = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
      out.write(bits >> 16);
      if (pad < 2) {
        out.write((bits >> 8) & 0xff);
      }
      if (pad < 1) {
        out.write(bits & 0xff);
      }
    }
    return out.toByteArray();
  }
}
