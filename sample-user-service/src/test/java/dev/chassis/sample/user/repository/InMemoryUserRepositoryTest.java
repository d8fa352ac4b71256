package dev.chassis.sample.user.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class InMemoryUserRepositoryTest {
  private final InMemoryUserRepository repository = new InMemoryUserRepository();

  @Test
  void create_concurrentSameEmail_exactlyOneWins() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<Boolean>> attempts = new ArrayList<>();
    for (int i = 0; i < 32; i++) {
      String email = (i % 2 == 0 ? "Same" : "same") + "@Example.com";
      attempts.add(
          pool.submit(
              () -> {
                start.await();
                try {
                  repository.create("racer", email);
                  return true;
                } catch (EmailAlreadyUsedException e) {
                  return false;
                }
              }));
    }

    start.countDown();
    int wins = 0;
    for (Future<Boolean> attempt : attempts) {
      wins += attempt.get(10, TimeUnit.SECONDS) ? 1 : 0;
    }
    pool.shutdownNow();

    assertThat(wins).isEqualTo(1);
    assertThat(repository.list(null, 100)).hasSize(1);
  }

  @Test
  void list_ordersByIdAndContinuesAfterTheGivenId() {
    for (int i = 0; i < 5; i++) {
      repository.create("u" + i, "u" + i + "@example.com");
    }

    List<UserRecord> first = repository.list(null, 2);
    List<UserRecord> rest = repository.list(first.get(1).id(), 10);

    assertThat(first).hasSize(2);
    assertThat(rest).hasSize(3);
    assertThat(first.get(1).id().toString()).isLessThan(rest.get(0).id().toString());
  }

  @Test
  void delete_freesTheEmailForReuse() {
    UserRecord user = repository.create("a", "a@example.com");

    assertThat(repository.delete(user.id())).isTrue();
    assertThat(repository.delete(user.id())).isFalse();
    assertThat(repository.create("a", "A@example.com").email()).isEqualTo("A@example.com");
    assertThatThrownBy(() -> repository.create("b", "a@EXAMPLE.com"))
        .isInstanceOf(EmailAlreadyUsedException.class);
  }
}
