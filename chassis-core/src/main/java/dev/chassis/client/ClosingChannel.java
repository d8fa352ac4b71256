package dev.chassis.client;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import java.util.concurrent.TimeUnit;

/** A channel that also closes a resource (the TLS file reloading) when it is shut down. */
final class ClosingChannel extends ManagedChannel {
  private final ManagedChannel delegate;
  private final AutoCloseable resource;

  ClosingChannel(ManagedChannel delegate, AutoCloseable resource) {
    this.delegate = delegate;
    this.resource = resource;
  }

  private void closeResource() {
    try {
      resource.close();
    } catch (Exception e) {
      throw new IllegalStateException("closing " + resource + " failed", e);
    }
  }

  @Override
  public ManagedChannel shutdown() {
    delegate.shutdown();
    closeResource();
    return this;
  }

  @Override
  public ManagedChannel shutdownNow() {
    delegate.shutdownNow();
    closeResource();
    return this;
  }

  @Override
  public boolean isShutdown() {
    return delegate.isShutdown();
  }

  @Override
  public boolean isTerminated() {
    return delegate.isTerminated();
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    return delegate.awaitTermination(timeout, unit);
  }

  @Override
  public <ReqT, RespT> ClientCall<ReqT, RespT> newCall(
      MethodDescriptor<ReqT, RespT> method, CallOptions options) {
    return delegate.newCall(method, options);
  }

  @Override
  public String authority() {
    return delegate.authority();
  }

  @Override
  public ConnectivityState getState(boolean requestConnection) {
    return delegate.getState(requestConnection);
  }

  @Override
  public void notifyWhenStateChanged(ConnectivityState source, Runnable callback) {
    delegate.notifyWhenStateChanged(source, callback);
  }

  @Override
  public void resetConnectBackoff() {
    delegate.resetConnectBackoff();
  }

  @Override
  public void enterIdle() {
    delegate.enterIdle();
  }

  @Override
  public String toString() {
    return delegate.toString();
  }
}
