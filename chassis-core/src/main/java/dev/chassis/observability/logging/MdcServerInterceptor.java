package dev.chassis.observability.logging;

import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import org.slf4j.MDC;

/** Sets the MDC around every listener callback and restores what was there before. */
final class MdcServerInterceptor implements ServerInterceptor {
  static final MdcServerInterceptor INSTANCE = new MdcServerInterceptor();

  private MdcServerInterceptor() {}

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    String previous = MDC.get(LoggingInterceptors.MDC_METHOD);
    MDC.put(LoggingInterceptors.MDC_METHOD, method);
    try {
      return new MdcListener<>(next.startCall(call, headers), method);
    } finally {
      restore(previous);
    }
  }

  private static void restore(String previous) {
    if (previous == null) {
      MDC.remove(LoggingInterceptors.MDC_METHOD);
    } else {
      MDC.put(LoggingInterceptors.MDC_METHOD, previous);
    }
  }

  private static final class MdcListener<ReqT> extends SimpleForwardingServerCallListener<ReqT> {
    private final String method;

    MdcListener(ServerCall.Listener<ReqT> delegate, String method) {
      super(delegate);
      this.method = method;
    }

    private String enter() {
      String previous = MDC.get(LoggingInterceptors.MDC_METHOD);
      MDC.put(LoggingInterceptors.MDC_METHOD, method);
      return previous;
    }

    @Override
    public void onMessage(ReqT message) {
      String previous = enter();
      try {
        super.onMessage(message);
      } finally {
        restore(previous);
      }
    }

    @Override
    public void onHalfClose() {
      String previous = enter();
      try {
        super.onHalfClose();
      } finally {
        restore(previous);
      }
    }

    @Override
    public void onCancel() {
      String previous = enter();
      try {
        super.onCancel();
      } finally {
        restore(previous);
      }
    }

    @Override
    public void onComplete() {
      String previous = enter();
      try {
        super.onComplete();
      } finally {
        restore(previous);
      }
    }

    @Override
    public void onReady() {
      String previous = enter();
      try {
        super.onReady();
      } finally {
        restore(previous);
      }
    }
  }
}
