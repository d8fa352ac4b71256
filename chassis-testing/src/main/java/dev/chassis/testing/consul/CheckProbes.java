package dev.chassis.testing.consul;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import org.jspecify.annotations.Nullable;

/**
 * Runs one round of an interval check the way Consul's agent does ({@code agent/checks}): gRPC
 * health, HTTP and TCP. Each call is blocking and bounded by the check's {@code Timeout} (10 s by
 * default); the caller applies the result.
 */
final class CheckProbes {

  /** The outcome of one probe. */
  record Result(String status, String output) {}

  private static final long DEFAULT_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);
  private static final int DEFAULT_OUTPUT_MAX_SIZE = 4 * 1024;

  private final Map<String, HttpClient> httpClients = new ConcurrentHashMap<>();

  /**
   * {@code grpc.health.v1.Health/Check} against {@code host:port[/service]}, a fresh channel each
   * run.
   */
  Result grpc(CheckDefinition check) {
    String target = check.grpc();
    int slash = target.indexOf('/');
    String server = slash < 0 ? target : target.substring(0, slash);
    String service = slash < 0 ? "" : target.substring(slash + 1);
    HostPort hostPort;
    try {
      hostPort = HostPort.parse(server);
    } catch (IllegalArgumentException e) {
      return critical(e.getMessage());
    }
    ChannelCredentials credentials;
    try {
      credentials =
          check.grpcUseTls() ? tls(check.tlsSkipVerify()) : InsecureChannelCredentials.create();
    } catch (GeneralSecurityException e) {
      return critical(e.toString());
    }
    ManagedChannelBuilder<?> builder =
        Grpc.newChannelBuilderForAddress(hostPort.host(), hostPort.port(), credentials);
    if (!check.tlsServerName().isEmpty()) {
      builder.overrideAuthority(check.tlsServerName());
    }
    ManagedChannel channel = builder.build();
    try {
      HealthCheckResponse response =
          HealthGrpc.newBlockingStub(channel)
              .withDeadlineAfter(timeoutNanos(check), TimeUnit.NANOSECONDS)
              .check(HealthCheckRequest.newBuilder().setService(service).build());
      if (response.getStatus() == HealthCheckResponse.ServingStatus.SERVING) {
        return new Result(ConsulAgent.PASSING, "gRPC check " + target + ": success");
      }
      return critical("gRPC " + target + " serving status: " + response.getStatus().name());
    } catch (StatusRuntimeException e) {
      return critical(goStatusText(e.getStatus()));
    } finally {
      channel.shutdownNow();
    }
  }

  /** An HTTP request: 2xx is passing, 429 warning, anything else or an error critical. */
  Result http(CheckDefinition check) {
    String method = check.method().isEmpty() ? "GET" : check.method();
    String url = check.http();
    long timeout = timeoutNanos(check);
    HttpRequest request;
    try {
      HttpRequest.Builder builder =
          HttpRequest.newBuilder(URI.create(url))
              .timeout(Duration.ofNanos(timeout))
              .method(
                  method,
                  check.body().isEmpty()
                      ? HttpRequest.BodyPublishers.noBody()
                      : HttpRequest.BodyPublishers.ofString(check.body()));
      Map<String, List<String>> header = check.header() == null ? Map.of() : check.header();
      header.forEach(
          (name, values) -> {
            for (String value : values) {
              try {
                builder.header(name, value);
              } catch (IllegalArgumentException restricted) {
                // java.net.http refuses a few headers (Host, Connection); Go would send them.
              }
            }
          });
      if (header.keySet().stream().noneMatch("User-Agent"::equalsIgnoreCase)) {
        builder.header("User-Agent", "Consul Health Check");
      }
      if (header.keySet().stream().noneMatch("Accept"::equalsIgnoreCase)) {
        builder.header("Accept", "text/plain, text/*, */*");
      }
      request = builder.build();
    } catch (IllegalArgumentException e) {
      return critical(e.getMessage());
    }
    int maxOutput = check.outputMaxSize() > 0 ? check.outputMaxSize() : DEFAULT_OUTPUT_MAX_SIZE;
    try {
      HttpResponse<InputStream> response =
          httpClient(check.disableRedirects(), check.tlsSkipVerify())
              .send(request, HttpResponse.BodyHandlers.ofInputStream());
      String body;
      try (InputStream in = response.body()) {
        body = tail(in.readAllBytes(), maxOutput);
      }
      int code = response.statusCode();
      String output =
          "HTTP " + method + " " + url + ": " + code + " " + reason(code) + " Output: " + body;
      if (code >= 200 && code <= 299) {
        return new Result(ConsulAgent.PASSING, output);
      } else if (code == 429) {
        return new Result(ConsulAgent.WARNING, output);
      }
      return critical(output);
    } catch (IOException e) {
      return critical(capitalize(method) + " " + GoDuration.quote(url) + ": " + describe(e, url));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return critical("interrupted");
    } catch (GeneralSecurityException e) {
      return critical(e.toString());
    }
  }

  /** A TCP connect: passing when it succeeds. */
  Result tcp(CheckDefinition check) {
    HostPort hostPort;
    try {
      hostPort = HostPort.parse(check.tcp());
    } catch (IllegalArgumentException e) {
      return critical(e.getMessage());
    }
    int timeoutMillis = (int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(timeoutNanos(check)));
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(hostPort.host(), hostPort.port()), timeoutMillis);
      return new Result(ConsulAgent.PASSING, "TCP connect " + check.tcp() + ": Success");
    } catch (IOException e) {
      return critical("dial tcp " + check.tcp() + ": " + describe(e, check.tcp()));
    }
  }

  private static long timeoutNanos(CheckDefinition check) {
    return check.timeoutNanos() > 0 ? check.timeoutNanos() : DEFAULT_TIMEOUT_NANOS;
  }

  private HttpClient httpClient(boolean disableRedirects, boolean skipVerify)
      throws GeneralSecurityException {
    String key = disableRedirects + "/" + skipVerify;
    HttpClient client = httpClients.get(key);
    if (client == null) {
      HttpClient.Builder builder =
          HttpClient.newBuilder()
              .followRedirects(
                  disableRedirects ? HttpClient.Redirect.NEVER : HttpClient.Redirect.NORMAL);
      if (skipVerify) {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {new TrustAll()}, new SecureRandom());
        builder.sslContext(context);
      }
      client = builder.build();
      httpClients.put(key, client);
    }
    return client;
  }

  private static ChannelCredentials tls(boolean skipVerify) throws GeneralSecurityException {
    if (!skipVerify) {
      return TlsChannelCredentials.create(); // the JVM's default trust store
    }
    return TlsChannelCredentials.newBuilder().trustManager(new TrustAll()).build();
  }

  /** Go's {@code status.Error} text: {@code rpc error: code = Unavailable desc = ...}. */
  static String goStatusText(Status status) {
    StringBuilder code = new StringBuilder();
    for (String part : status.getCode().name().split("_")) {
      code.append(part.charAt(0)).append(part.substring(1).toLowerCase(Locale.ROOT));
    }
    if (status.getCode() == Status.Code.OK) {
      code.setLength(0);
      code.append("OK");
    }
    StringBuilder desc = new StringBuilder();
    if (status.getDescription() != null) {
      desc.append(status.getDescription());
    }
    if (status.getCause() != null && status.getCause().getMessage() != null) {
      desc.append(desc.length() == 0 ? "" : ": ").append(status.getCause().getMessage());
    }
    return "rpc error: code = " + code + " desc = " + desc;
  }

  private static String describe(IOException e, String address) {
    if (e instanceof ConnectException) {
      return "connect: connection refused";
    } else if (e instanceof SocketTimeoutException
        || e instanceof java.net.http.HttpTimeoutException) {
      return "i/o timeout";
    } else if (e instanceof UnknownHostException) {
      return "lookup " + address + ": no such host";
    }
    return String.valueOf(e.getMessage() == null ? e : e.getMessage());
  }

  private static String tail(byte[] bytes, int max) {
    // Consul reads the body into a circular buffer: it keeps the last bytes.
    int from = Math.max(0, bytes.length - max);
    return new String(bytes, from, bytes.length - from, StandardCharsets.UTF_8);
  }

  private static String capitalize(String method) {
    String lower = method.toLowerCase(Locale.ROOT);
    return Character.toUpperCase(lower.charAt(0)) + lower.substring(1);
  }

  private static String reason(int code) {
    switch (code) {
      case 200:
        return "OK";
      case 201:
        return "Created";
      case 202:
        return "Accepted";
      case 204:
        return "No Content";
      case 301:
        return "Moved Permanently";
      case 302:
        return "Found";
      case 304:
        return "Not Modified";
      case 400:
        return "Bad Request";
      case 401:
        return "Unauthorized";
      case 403:
        return "Forbidden";
      case 404:
        return "Not Found";
      case 429:
        return "Too Many Requests";
      case 500:
        return "Internal Server Error";
      case 502:
        return "Bad Gateway";
      case 503:
        return "Service Unavailable";
      case 504:
        return "Gateway Timeout";
      default:
        return "status code " + code;
    }
  }

  private static Result critical(@Nullable String output) {
    return new Result(ConsulAgent.CRITICAL, output == null ? "" : output);
  }

  /** {@code host:port} or {@code [v6]:port}. */
  record HostPort(String host, int port) {
    static HostPort parse(String address) {
      int colon = address.lastIndexOf(':');
      if (colon < 0) {
        throw new IllegalArgumentException("address " + address + ": missing port in address");
      }
      String host = address.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      try {
        int port = Integer.parseInt(address.substring(colon + 1));
        if (port < 0 || port > 65535) {
          throw new NumberFormatException();
        }
        return new HostPort(host.isEmpty() ? "127.0.0.1" : host, port);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "address " + address + ": invalid port",
            e); // Go: "dial tcp: address ...: invalid port"
      }
    }
  }

  /** Trusts every certificate and skips host name checks, as Go's {@code InsecureSkipVerify}. */
  private static final class TrustAll extends X509ExtendedTrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
