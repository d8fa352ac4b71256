package dev.chassis.testing;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.ResourceInfo;
import com.google.rpc.RetryInfo;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.api.AbstractAssert;

/** Assertions on a {@code google.rpc.Status}: code, message and rich error details. */
public final class RpcStatusAssert extends AbstractAssert<RpcStatusAssert, com.google.rpc.Status> {

  RpcStatusAssert(com.google.rpc.Status actual) {
    super(actual, RpcStatusAssert.class);
  }

  /** The status code is {@code code}. */
  public RpcStatusAssert hasCode(Status.Code code) {
    isNotNull();
    Status.Code actualCode = Status.fromCodeValue(actual.getCode()).getCode();
    if (actualCode != code) {
      failWithMessage("expected status %s but was %s (%s)", code, actualCode, actual.getMessage());
    }
    return this;
  }

  /** The message (the gRPC status description) equals {@code message}. */
  public RpcStatusAssert hasMessage(String message) {
    isNotNull();
    if (!actual.getMessage().equals(message)) {
      failWithMessage("expected message <%s> but was <%s>", message, actual.getMessage());
    }
    return this;
  }

  /** The message contains {@code part}. */
  public RpcStatusAssert hasMessageContaining(String part) {
    isNotNull();
    if (!actual.getMessage().contains(part)) {
      failWithMessage("expected message containing <%s> but was <%s>", part, actual.getMessage());
    }
    return this;
  }

  /**
   * Neither the message nor any detail contains any of {@code fragments} (stack traces, SQL, class
   * names that must stay on the server).
   */
  public RpcStatusAssert doesNotExpose(String... fragments) {
    isNotNull();
    String everything = actual.toString();
    for (String fragment : fragments) {
      if (everything.contains(fragment)) {
        failWithMessage(
            "expected the status not to expose <%s> but it was: %s", fragment, everything);
      }
    }
    return this;
  }

  /** A {@code google.rpc.BadRequest} detail names {@code field}. */
  public RpcStatusAssert hasBadRequestViolation(String field) {
    return hasBadRequestViolation(field, "");
  }

  /**
   * A {@code google.rpc.BadRequest} detail names {@code field} with a description containing {@code
   * description}.
   */
  public RpcStatusAssert hasBadRequestViolation(String field, String description) {
    isNotNull();
    List<String> seen = new ArrayList<>();
    for (BadRequest badRequest : details(BadRequest.class)) {
      for (BadRequest.FieldViolation violation : badRequest.getFieldViolationsList()) {
        if (violation.getField().equals(field)
            && violation.getDescription().contains(description)) {
          return this;
        }
        seen.add(violation.getField() + ": " + violation.getDescription());
      }
    }
    failWithMessage(
        "expected a BadRequest violation of field <%s>%s but the violations were %s",
        field, description.isEmpty() ? "" : " containing <" + description + ">", seen);
    return this;
  }

  /** A {@code google.rpc.ErrorInfo} detail has {@code reason}. */
  public RpcStatusAssert hasErrorInfoReason(String reason) {
    isNotNull();
    List<String> seen = new ArrayList<>();
    for (ErrorInfo info : details(ErrorInfo.class)) {
      if (info.getReason().equals(reason)) {
        return this;
      }
      seen.add(info.getReason());
    }
    failWithMessage("expected an ErrorInfo with reason <%s> but the reasons were %s", reason, seen);
    return this;
  }

  /** A {@code google.rpc.ResourceInfo} detail names this resource. */
  public RpcStatusAssert hasResourceInfo(String resourceType, String resourceName) {
    isNotNull();
    for (ResourceInfo info : details(ResourceInfo.class)) {
      if (info.getResourceType().equals(resourceType)
          && info.getResourceName().equals(resourceName)) {
        return this;
      }
    }
    failWithMessage(
        "expected a ResourceInfo %s/%s but the details were %s",
        resourceType, resourceName, actual.getDetailsList());
    return this;
  }

  /** A {@code google.rpc.RetryInfo} detail advises retrying after {@code delay}. */
  public RpcStatusAssert hasRetryDelay(Duration delay) {
    isNotNull();
    for (RetryInfo info : details(RetryInfo.class)) {
      com.google.protobuf.Duration proto = info.getRetryDelay();
      if (Duration.ofSeconds(proto.getSeconds(), proto.getNanos()).equals(delay)) {
        return this;
      }
    }
    failWithMessage(
        "expected a RetryInfo of %s but the details were %s", delay, actual.getDetailsList());
    return this;
  }

  private <T extends Message> List<T> details(Class<T> type) {
    List<T> found = new ArrayList<>();
    for (Any any : actual.getDetailsList()) {
      if (any.is(type)) {
        try {
          found.add(any.unpack(type));
        } catch (InvalidProtocolBufferException e) {
          failWithMessage("detail %s does not parse: %s", any.getTypeUrl(), e.getMessage());
        }
      }
    }
    return found;
  }
}
