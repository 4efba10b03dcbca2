#include "bot/conversation_locks.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

using coach::bot::ConversationLocks;

TEST_CASE("one key is held by one thread at a time", "[conversation_locks]") {
  ConversationLocks locks;
  constexpr int kThreads = 8;
  constexpr int kRounds = 2000;
  int counter = 0;  // deliberately unsynchronised: only the lock protects it (TSan would see a race otherwise)
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        auto guard = locks.Lock("conversation-1");
        if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
        ++counter;
        inside.fetch_sub(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(overlaps.load() == 0);
  CHECK(counter == kThreads * kRounds);
  CHECK(locks.ActiveKeys() == 0);
}

TEST_CASE("different keys do not wait for each other", "[conversation_locks]") {
  ConversationLocks locks;
  auto held = locks.Lock("a");
  // Would deadlock (and the test hang) if "b" shared "a"'s mutex.
  std::thread other([&] { auto guard = locks.Lock("b"); });
  other.join();
  CHECK(locks.ActiveKeys() == 1);
}

TEST_CASE("entries are freed when the last holder leaves and reused while held", "[conversation_locks]") {
  ConversationLocks locks;
  {
    auto first = locks.Lock("x");
    auto second_key = locks.Lock("y");
    CHECK(locks.ActiveKeys() == 2);
    auto moved = std::move(first);
    CHECK(locks.ActiveKeys() == 2);
  }
  CHECK(locks.ActiveKeys() == 0);
  {
    auto again = locks.Lock("x");
    CHECK(locks.ActiveKeys() == 1);
  }
  CHECK(locks.ActiveKeys() == 0);
}
