package ${package}.handler;

import ${package}.repository.${serviceName}Record;
import ${package}.repository.${serviceName}Repository;
import ${package}.v1.Create${serviceName}Request;
import ${package}.v1.Get${serviceName}Request;
import ${package}.v1.List${serviceName}sRequest;
import ${package}.v1.${serviceName};
import ${package}.v1.${serviceName}ServiceGrpc.${serviceName}ServiceImplBase;
import com.google.protobuf.Timestamp;
import dev.chassis.errors.InvalidArgumentException;
import dev.chassis.errors.NotFoundException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/** The service's gRPC handler: validation, the Chassis error model, flow-controlled streams. */
// Exceptions from dev.chassis.errors become the right status with google.rpc details; anything
// unexpected becomes INTERNAL, logged with its trace id, without internals reaching the client.
public final class ${serviceName}ServiceHandler extends ${serviceName}ServiceImplBase {
  /** Longest name accepted. */
  static final int MAX_NAME_LENGTH = 200;

  /** Items fetched from the repository per batch while streaming. */
  static final int LIST_BATCH_SIZE = 100;

  private final ${serviceName}Repository repository;

  /** A handler serving {@code repository}. */
  public ${serviceName}ServiceHandler(${serviceName}Repository repository) {
    this.repository = repository;
  }

  @Override
  public void get${serviceName}(Get${serviceName}Request req, StreamObserver<${serviceName}> out) {
    UUID id = parseId(req.getId());
    var found = repository.find(id);
    if (found.isEmpty()) {
      throw new NotFoundException("${protoName}", req.getId());
    }
    out.onNext(toProto(found.get()));
    out.onCompleted();
  }

  @Override
  public void create${serviceName}(Create${serviceName}Request req, StreamObserver<${serviceName}> out) {
    String name = req.getName().strip();
    var errors = InvalidArgumentException.newBuilder();
    if (name.isEmpty()) {
      errors.addViolation("name", "must not be empty");
    } else if (name.length() > MAX_NAME_LENGTH) {
      errors.addViolation("name", "must be at most 200 characters");
    }
    errors.throwIfAny();
    String description = req.getDescription().strip();
    out.onNext(toProto(repository.create(name, description)));
    out.onCompleted();
  }

  @Override
  public void list${serviceName}s(List${serviceName}sRequest req, StreamObserver<${serviceName}> out) {
    if (req.getPageSize() < 0) {
      throw InvalidArgumentException.forField("page_size", "must be 0 (all) or more");
    }
    long limit = req.getPageSize() == 0 ? Long.MAX_VALUE : req.getPageSize();
    var call = (ServerCallStreamObserver<${serviceName}>) out;
    var streamer = new Streamer(call, limit);
    call.setOnReadyHandler(streamer);
    // grpc calls the ready handler when the client has room; start now in case it already has.
    streamer.run();
  }

  private static UUID parseId(String id) {
    try {
      if (id.length() == 36) {
        return UUID.fromString(id);
      }
    } catch (IllegalArgumentException e) {
      // Reported below as a field violation, like any other malformed id.
    }
    throw InvalidArgumentException.forField("id", "must be a UUID");
  }

  static ${serviceName} toProto(${serviceName}Record record) {
    var created =
        Timestamp.newBuilder()
            .setSeconds(record.created().getEpochSecond())
            .setNanos(record.created().getNano());
    return ${serviceName}.newBuilder()
        .setId(record.id().toString())
        .setName(record.name())
        .setDescription(record.description())
        .setCreateTime(created)
        .build();
  }

  /** Sends items while the client is ready; callbacks of one call never overlap. */
  private final class Streamer implements Runnable {
    private final ServerCallStreamObserver<${serviceName}> call;
    private long remaining;
    private @Nullable UUID after;
    private boolean done;

    Streamer(ServerCallStreamObserver<${serviceName}> call, long limit) {
      this.call = call;
      this.remaining = limit;
    }

    @Override
    public void run() {
      while (!done && call.isReady() && !call.isCancelled()) {
        int size = (int) Math.min(LIST_BATCH_SIZE, remaining);
        List<${serviceName}Record> batch = repository.list(after, size);
        for (var record : batch) {
          call.onNext(toProto(record));
          after = record.id();
          remaining--;
        }
        if (batch.isEmpty() || remaining == 0) {
          done = true;
          call.onCompleted();
        }
      }
    }
  }
}
