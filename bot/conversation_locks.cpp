#include "bot/conversation_locks.h"

#include <utility>

namespace coach::bot {

struct ConversationLocks::Guard::Entry {
  std::mutex mutex;
  int users = 0;  ///< holders and waiters; guarded by the table mutex
};

ConversationLocks::Guard::Guard(ConversationLocks* owner, std::string key, Entry* entry)
    : owner_(owner), key_(std::move(key)), entry_(entry) {}

ConversationLocks::Guard::Guard(Guard&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), key_(std::move(other.key_)), entry_(other.entry_) {}

ConversationLocks::Guard::~Guard() {
  if (owner_ != nullptr) owner_->Release(key_, entry_);
}

ConversationLocks::ConversationLocks() = default;
ConversationLocks::~ConversationLocks() = default;

ConversationLocks::Guard ConversationLocks::Lock(const std::string& key) {
  Guard::Entry* entry = nullptr;
  {
    std::lock_guard<std::mutex> table_lock(table_mutex_);
    auto& slot = entries_[key];
    if (!slot) slot = std::make_unique<Guard::Entry>();
    ++slot->users;
    entry = slot.get();
  }
  // Waiting happens outside the table lock: other keys stay free. The entry cannot vanish meanwhile, since
  // its user count includes this thread.
  entry->mutex.lock();
  return Guard(this, key, entry);
}

void ConversationLocks::Release(const std::string& key, Guard::Entry* entry) {
  entry->mutex.unlock();
  std::lock_guard<std::mutex> table_lock(table_mutex_);
  if (--entry->users == 0) entries_.erase(key);
}

std::size_t ConversationLocks::ActiveKeys() {
  std::lock_guard<std::mutex> table_lock(table_mutex_);
  return entries_.size();
}

}  // namespace coach::bot
