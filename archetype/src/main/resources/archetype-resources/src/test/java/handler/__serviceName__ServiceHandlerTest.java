package ${package}.handler;

import static dev.chassis.testing.GrpcAssertions.assertThatGrpc;
import static org.assertj.core.api.Assertions.assertThat;

import ${package}.repository.InMemory${serviceName}Repository;
import ${package}.v1.Create${serviceName}Request;
import ${package}.v1.Get${serviceName}Request;
import ${package}.v1.List${serviceName}sRequest;
import ${package}.v1.${serviceName};
import ${package}.v1.${serviceName}ServiceGrpc;
import ${package}.v1.${serviceName}ServiceGrpc.${serviceName}ServiceBlockingStub;
import dev.chassis.testing.ChassisServerExtension;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The handler behind the production interceptor chain, on an in-process server. */
class ${serviceName}ServiceHandlerTest {
  @RegisterExtension
  final ChassisServerExtension server =
      ChassisServerExtension.newBuilder(builder -> builder.addService(newHandler()))
          .config("chassis.service.name = test")
          .build();

  private static ${serviceName}ServiceHandler newHandler() {
    return new ${serviceName}ServiceHandler(new InMemory${serviceName}Repository());
  }

  @Test
  void create_thenGet_returnsIt() {
    ${serviceName} created = stub().create${serviceName}(create("  First  "));

    ${serviceName} fetched = stub().get${serviceName}(byId(created.getId()));

    assertThat(created.getId()).hasSize(36);
    assertThat(created.getName()).isEqualTo("First");
    assertThat(created.hasCreateTime()).isTrue();
    assertThat(fetched).isEqualTo(created);
  }

  @Test
  void get_unknownId_returnsNotFound() {
    String id = "00000000-0000-0000-0000-000000000000";
    assertThatGrpc(() -> stub().get${serviceName}(byId(id)))
        .failsWith(Status.Code.NOT_FOUND)
        .hasResourceInfo("${protoName}", id);
  }

  @Test
  void get_malformedId_returnsInvalidArgumentOnId() {
    assertThatGrpc(() -> stub().get${serviceName}(byId("42")))
        .failsWith(Status.Code.INVALID_ARGUMENT)
        .hasBadRequestViolation("id", "UUID");
  }

  @Test
  void create_blankName_returnsInvalidArgumentOnName() {
    assertThatGrpc(() -> stub().create${serviceName}(create("   ")))
        .failsWith(Status.Code.INVALID_ARGUMENT)
        .hasBadRequestViolation("name", "must not be empty");
  }

  @Test
  void list_streamsInCreationOrder_andHonoursThePageSize() {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 250; i++) {
      names.add(stub().create${serviceName}(create("item " + i)).getName());
    }

    List<String> all = new ArrayList<>();
    stub().list${serviceName}s(page(0)).forEachRemaining(item -> all.add(item.getName()));
    List<String> firstTen = new ArrayList<>();
    stub().list${serviceName}s(page(10)).forEachRemaining(item -> firstTen.add(item.getName()));

    assertThat(all).isEqualTo(names);
    assertThat(firstTen).isEqualTo(names.subList(0, 10));
  }

  private static Get${serviceName}Request byId(String id) {
    return Get${serviceName}Request.newBuilder().setId(id).build();
  }

  private static List${serviceName}sRequest page(int size) {
    return List${serviceName}sRequest.newBuilder().setPageSize(size).build();
  }

  private static Create${serviceName}Request create(String name) {
    return Create${serviceName}Request.newBuilder().setName(name).build();
  }

  private ${serviceName}ServiceBlockingStub stub() {
    var stub = ${serviceName}ServiceGrpc.newBlockingStub(server.channel());
    return stub.withDeadlineAfter(10, TimeUnit.SECONDS);
  }
}
