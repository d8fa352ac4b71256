package dev.chassis.internal.grpc;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.LoadBalancer;
import io.grpc.LoadBalancerProvider;
import io.grpc.LoadBalancerRegistry;
import io.grpc.MethodDescriptor;
import io.grpc.NameResolver;
import io.grpc.util.ForwardingLoadBalancerHelper;
import io.grpc.util.ForwardingSubchannel;
import java.util.Map;

/**
 * grpc's {@code round_robin} (with grpc-services' client-side health checking), except that the
 * calls it makes on a subchannel, the health-check streams, never inherit the {@link Context} of
 * the thread that happens to run the channel's work.
 *
 * <p>grpc runs load-balancer work on whichever thread drains the channel's synchronization context;
 * a server handler making the channel's first call can be that thread. A health stream created
 * there inherits the handler's context and is cancelled when the handler's call ends; the backend
 * then counts as unhealthy and every later call fails with UNAVAILABLE. This policy creates those
 * calls under {@link Context#ROOT}. Chassis's service config names it for {@code round_robin}.
 */
public final class DetachedRoundRobinProvider extends LoadBalancerProvider {
  /** The policy name Chassis puts in service configs. */
  public static final String POLICY_NAME = "chassis_round_robin";

  @Override
  public boolean isAvailable() {
    return true;
  }

  @Override
  public int getPriority() {
    return 5;
  }

  @Override
  public String getPolicyName() {
    return POLICY_NAME;
  }

  @Override
  public NameResolver.ConfigOrError parseLoadBalancingPolicyConfig(
      Map<String, ?> rawLoadBalancingPolicyConfig) {
    return roundRobin().parseLoadBalancingPolicyConfig(rawLoadBalancingPolicyConfig);
  }

  @Override
  public LoadBalancer newLoadBalancer(LoadBalancer.Helper helper) {
    return roundRobin().newLoadBalancer(new DetachedHelper(helper));
  }

  private static LoadBalancerProvider roundRobin() {
    LoadBalancerProvider provider =
        LoadBalancerRegistry.getDefaultRegistry().getProvider("round_robin");
    if (provider == null) {
      throw new IllegalStateException("grpc's round_robin load balancer is not registered");
    }
    return provider;
  }

  private static final class DetachedHelper extends ForwardingLoadBalancerHelper {
    private final LoadBalancer.Helper delegate;

    DetachedHelper(LoadBalancer.Helper delegate) {
      this.delegate = delegate;
    }

    @Override
    protected LoadBalancer.Helper delegate() {
      return delegate;
    }

    @Override
    public LoadBalancer.Subchannel createSubchannel(LoadBalancer.CreateSubchannelArgs args) {
      return new DetachedSubchannel(super.createSubchannel(args));
    }
  }

  private static final class DetachedSubchannel extends ForwardingSubchannel {
    private final LoadBalancer.Subchannel delegate;

    DetachedSubchannel(LoadBalancer.Subchannel delegate) {
      this.delegate = delegate;
    }

    @Override
    protected LoadBalancer.Subchannel delegate() {
      return delegate;
    }

    @Override
    public Channel asChannel() {
      Channel channel = delegate.asChannel();
      return new Channel() {
        @Override
        public <ReqT, RespT> ClientCall<ReqT, RespT> newCall(
            MethodDescriptor<ReqT, RespT> method, CallOptions callOptions) {
          // grpc's ClientCallImpl captures Context.current() here, for the whole call.
          Context previous = Context.ROOT.attach();
          try {
            return channel.newCall(method, callOptions);
          } finally {
            Context.ROOT.detach(previous);
          }
        }

        @Override
        public String authority() {
          return channel.authority();
        }
      };
    }
  }
}
