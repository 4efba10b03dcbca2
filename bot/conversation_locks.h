#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace coach::bot {

/// One mutex per conversation key, created on first use and freed when nobody holds or waits for it, so the
/// table stays as small as the number of conversations busy right now. Turns of one conversation run one after
/// another; different keys never wait for each other (beyond a map lookup). Thread-safe.
class ConversationLocks {
 public:
  /// Holds one key's mutex; releases it (and frees the entry if unused) on destruction. Move-only.
  class Guard {
   public:
    Guard(Guard&& other) noexcept;
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    Guard& operator=(Guard&&) = delete;
    ~Guard();

   private:
    friend class ConversationLocks;
    struct Entry;
    Guard(ConversationLocks* owner, std::string key, Entry* entry);
    ConversationLocks* owner_;
    std::string key_;
    Entry* entry_;
  };

  ConversationLocks();
  ~ConversationLocks();

  /// Blocks until this thread holds `key`.
  Guard Lock(const std::string& key);
  /// Keys currently held or waited for (tests check that the table empties).
  std::size_t ActiveKeys();

 private:
  void Release(const std::string& key, Guard::Entry* entry);
  std::mutex table_mutex_;
  std::unordered_map<std::string, std::unique_ptr<Guard::Entry>> entries_;
};

}  // namespace coach::bot
