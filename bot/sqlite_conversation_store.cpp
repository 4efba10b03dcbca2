#include "bot/sqlite_conversation_store.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <utility>

#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>

#include "bot/json_writer.h"

#include "bot/migrations.h"

namespace coach::bot {
namespace {

std::int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Replaces invalid UTF-8 instead of throwing: a stored value must never make a later write fail.
std::string DumpJson(const nlohmann::json& value) {
  return DumpJsonText(value);
}

nlohmann::json ParseJson(const std::string& text, const nlohmann::json& fallback) {
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  return parsed.is_discarded() ? fallback : parsed;
}

constexpr const char* kConversationColumns =
    "id, channel, external_id, state_key, slots, status, triage_level, access_token_hash, created_at_ms, "
    "updated_at_ms, revision";

// The header query selects NULL in the slots column, so both queries share the column numbers.
constexpr const char* kConversationHeaderColumns =
    "id, channel, external_id, state_key, NULL, status, triage_level, access_token_hash, created_at_ms, "
    "updated_at_ms, revision";

ConversationRecord ReadConversation(const SqliteStatement& row) {
  ConversationRecord conversation;
  conversation.id = row.Int(0);
  conversation.channel = row.Text(1);
  conversation.external_id = row.Text(2);
  conversation.state_key = row.Text(3);
  if (!row.IsNull(4)) conversation.slots = ParseJson(row.Text(4), nlohmann::json::object());
  conversation.status = row.Text(5);
  conversation.triage_level = row.OptionalText(6);
  conversation.access_token_hash = row.Blob(7);
  conversation.created_at_ms = row.Int(8);
  conversation.updated_at_ms = row.Int(9);
  conversation.revision = row.Int(10);
  return conversation;
}

constexpr const char* kMessageColumns =
    "id, conversation_id, author, text, quick_replies, kind, client_message_id, in_reply_to, created_at_ms, triage";

MessageRecord ReadMessage(const SqliteStatement& row) {
  MessageRecord message;
  message.id = row.Int(0);
  message.conversation_id = row.Int(1);
  message.author = ParseAuthor(row.Text(2)).value_or(Author::system);
  message.text = row.Text(3);
  // Most lines have no quick replies: skip the parser for the stored "[]".
  if (auto quick_replies = row.Text(4); quick_replies != "[]") {
    message.quick_replies = ParseJson(quick_replies, nlohmann::json::array());
  }
  message.kind = row.Text(5);
  message.client_message_id = row.OptionalText(6);
  message.in_reply_to = row.OptionalInt(7);
  message.created_at_ms = row.Int(8);
  if (!row.IsNull(9)) message.triage = ParseJson(row.Text(9), nlohmann::json());
  return message;
}

std::vector<MessageRecord> ReadMessages(SqliteStatement& statement) {
  std::vector<MessageRecord> messages;
  while (statement.Step()) messages.push_back(ReadMessage(statement));
  return messages;
}

std::string QuickRepliesText(const nlohmann::json& quick_replies) {
  return quick_replies.is_array() && quick_replies.empty() ? std::string("[]") : DumpJson(quick_replies);
}

std::string QuickRepliesText(const MessageRecord& message) {
  return message.quick_replies_text ? *message.quick_replies_text : QuickRepliesText(message.quick_replies);
}

std::string SlotsText(const ConversationRecord& conversation) {
  return conversation.slots_text ? *conversation.slots_text : DumpJson(conversation.slots);
}

void BindTriage(SqliteStatement& statement, int parameter, const nlohmann::json& triage) {
  if (triage.is_null()) {
    statement.BindNull(parameter);
  } else {
    statement.Bind(parameter, DumpJson(triage));
  }
}

// One multi-row INSERT writes up to this many lines; the statement overhead is paid once instead of
// once per row.
constexpr std::size_t kMaxRowsPerInsert = 8;

// The INSERT for `rows` lines (1..kMaxRowsPerInsert), built once per row count.
const std::string& AppendMessagesSql(std::size_t rows) {
  static const std::vector<std::string> statements = [] {
    std::vector<std::string> built(kMaxRowsPerInsert + 1);
    for (std::size_t count = 1; count <= kMaxRowsPerInsert; ++count) {
      std::string sql =
          "INSERT INTO messages (conversation_id, author, text, quick_replies, kind, client_message_id, "
          "in_reply_to, created_at_ms, triage) VALUES ";
      for (std::size_t row = 0; row < count; ++row) {
        if (row > 0) sql += ", ";
        sql += "(?, ?, ?, ?, ?, ?, ?, ?, ?)";
      }
      built[count] = std::move(sql);
    }
    return built;
  }();
  return statements[rows];
}

constexpr const char* kEscalationColumns =
    "id, conversation_id, level, flags, evidence, reason, status, claimed_by, created_at_ms, claimed_at_ms, "
    "closed_at_ms";

std::vector<EscalationRecord> ReadEscalations(SqliteStatement& statement) {
  std::vector<EscalationRecord> escalations;
  while (statement.Step()) {
    EscalationRecord escalation;
    escalation.id = statement.Int(0);
    escalation.conversation_id = statement.Int(1);
    escalation.level = statement.Text(2);
    escalation.flags = ParseJson(statement.Text(3), nlohmann::json::array());
    escalation.evidence = ParseJson(statement.Text(4), nlohmann::json::array());
    escalation.reason = statement.Text(5);
    escalation.status = statement.Text(6);
    escalation.claimed_by = statement.OptionalText(7);
    escalation.created_at_ms = statement.Int(8);
    escalation.claimed_at_ms = statement.OptionalInt(9);
    escalation.closed_at_ms = statement.OptionalInt(10);
    escalations.push_back(std::move(escalation));
  }
  return escalations;
}

std::vector<UnansweredQuestionRecord> ReadUnansweredQuestions(SqliteStatement& statement) {
  std::vector<UnansweredQuestionRecord> questions;
  while (statement.Step()) {
    questions.push_back({statement.Int(0), statement.Int(1), statement.Text(2), statement.Int(3)});
  }
  return questions;
}

std::map<std::string, std::int64_t> ReadCounts(SqliteStatement& statement) {
  std::map<std::string, std::int64_t> counts;
  while (statement.Step()) counts[statement.Text(0)] = statement.Int(1);
  return counts;
}

// Severity order of the triage level names, most urgent first, for the coach queue.
constexpr const char* kLevelRank =
    "CASE level WHEN 'emergency' THEN 0 WHEN 'urgent' THEN 1 WHEN 'see_professional' THEN 2 "
    "WHEN 'self_care' THEN 3 ELSE 4 END";

}  // namespace

std::string_view ToString(Durability durability) {
  return durability == Durability::full ? "full" : "normal";
}

std::optional<Durability> ParseDurability(std::string_view name) {
  if (name == "normal") return Durability::normal;
  if (name == "full") return Durability::full;
  return std::nullopt;
}

/// Idle read connections, opened on demand. A lease returns its connection when it ends; at most kMaxIdle stay
/// open, so a burst of parallel reads does not leave dozens of page caches behind.
class SqliteConversationStore::ReaderPool {
 public:
  ReaderPool(std::string path, std::chrono::milliseconds busy_timeout)
      : path_(std::move(path)), busy_timeout_(busy_timeout) {}

  class Lease {
   public:
    Lease(ReaderPool& pool, std::unique_ptr<SqliteDatabase> database) : pool_(pool), database_(std::move(database)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { pool_.Return(std::move(database_)); }
    SqliteDatabase& database() { return *database_; }

   private:
    ReaderPool& pool_;
    std::unique_ptr<SqliteDatabase> database_;
  };

  Lease Acquire() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!idle_.empty()) {
        auto database = std::move(idle_.back());
        idle_.pop_back();
        return Lease(*this, std::move(database));
      }
      ++opened_;
    }
    auto database = std::make_unique<SqliteDatabase>(path_);
    database->Execute("PRAGMA busy_timeout = " + std::to_string(busy_timeout_.count()), "set busy_timeout");
    // A read connection must never write: a bug that tried would otherwise race the writer's transactions.
    database->Execute("PRAGMA query_only = ON", "set query_only");
    return Lease(*this, std::move(database));
  }

  std::size_t Opened() {
    std::lock_guard<std::mutex> lock(mutex_);
    return opened_;
  }

 private:
  static constexpr std::size_t kMaxIdle = 16;

  void Return(std::unique_ptr<SqliteDatabase> database) {
    if (!database) return;
    std::lock_guard<std::mutex> lock(mutex_);
    if (idle_.size() < kMaxIdle) idle_.push_back(std::move(database));
  }

  std::string path_;
  std::chrono::milliseconds busy_timeout_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<SqliteDatabase>> idle_;  ///< guarded by mutex_
  std::size_t opened_ = 0;                             ///< guarded by mutex_
};

/// Checkpoints the WAL on its own thread and connection once a commit reports `threshold` frames in it. PASSIVE:
/// it copies what no reader still needs and never blocks the writer, so turns keep committing meanwhile; the
/// fsync of the database file happens here instead of inside a turn's commit. But under steady load commits append
/// while it copies, so the WAL is never completely copied and SQLite never starts it over: it only grows. Past
/// four times the threshold the thread therefore holds the store's writer mutex (no commit in this process can
/// start) while a RESTART checkpoint copies the little PASSIVE left behind; the next commit starts the WAL over.
/// (Waiting for SQLite's write lock instead lost every race against back-to-back group commits.)
class SqliteConversationStore::BackgroundCheckpointer {
 public:
  BackgroundCheckpointer(std::string path, int threshold, std::mutex& writer_mutex)
      : path_(std::move(path)), threshold_(threshold), writer_mutex_(writer_mutex) {
    // Started with every signal blocked: a library thread must never be the one a SIGTERM meant for the
    // program's own handling (serve's sigwait thread) is delivered to, which would kill the process instead.
    sigset_t all_signals;
    sigset_t previous;
    sigfillset(&all_signals);
    pthread_sigmask(SIG_BLOCK, &all_signals, &previous);
    thread_ = std::thread([this] { Run(); });
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  }
  BackgroundCheckpointer(const BackgroundCheckpointer&) = delete;
  BackgroundCheckpointer& operator=(const BackgroundCheckpointer&) = delete;
  ~BackgroundCheckpointer() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

  /// sqlite3_wal_hook callback, on the writer's thread right after a commit: only flags the work, once per
  /// `threshold` frames the WAL grew by. (Asking whenever the WAL held `threshold` frames asked after every commit
  /// until the WAL started over: under load a checkpoint, with its two fdatasyncs, ran every two or three messages.)
  static int OnCommit(void* self, sqlite3*, const char*, int frames_in_wal) {
    auto* checkpointer = static_cast<BackgroundCheckpointer*>(self);
    if (frames_in_wal < checkpointer->frames_at_last_commit_) {
      checkpointer->next_request_at_frames_ = checkpointer->threshold_;  // the WAL started over
    }
    checkpointer->frames_at_last_commit_ = frames_in_wal;
    if (frames_in_wal >= checkpointer->next_request_at_frames_) {
      checkpointer->next_request_at_frames_ = frames_in_wal + checkpointer->threshold_;
      std::lock_guard<std::mutex> lock(checkpointer->mutex_);
      ++checkpointer->requests_;
      if (!checkpointer->requested_) {
        checkpointer->requested_ = true;
        checkpointer->changed_.notify_all();
      }
    }
    return SQLITE_OK;
  }

  std::size_t Requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

  std::size_t WaitForCompleted(std::size_t at_least, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return completed_ >= at_least; });
    return completed_;
  }

  std::size_t WaitForRestarts(std::size_t at_least, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return restarts_ >= at_least; });
    return restarts_;
  }

 private:
  void Run() {
    std::unique_ptr<SqliteDatabase> database;
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      changed_.wait(lock, [&] { return requested_ || stopping_; });
      if (stopping_) return;
      requested_ = false;
      lock.unlock();
      bool checkpointed = false;
      bool restarted = false;
      try {
        if (!database) {
          database = std::make_unique<SqliteDatabase>(path_);
          // A connection learns that the file is in WAL mode only when it first reads it; until then a checkpoint
          // "succeeds" doing nothing (log and backfill -1), and the WAL grew without bound (found in session 3:
          // 136 MB after 8,000 messages, database file untouched).
          database->QueryText("SELECT COUNT(*) FROM sqlite_master", "open the WAL for checkpoints");
          // RESTART waits this long for the writer's lock (and for readers of the old WAL) before giving up.
          database->Execute("PRAGMA busy_timeout = 2000", "set busy_timeout");
        }
        // BUSY (another checkpoint running, e.g. the shutdown one) just means: next time.
        int frames_in_log = -1;
        checkpointed = sqlite3_wal_checkpoint_v2(database->Handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &frames_in_log,
                                                 nullptr) == SQLITE_OK &&
                       frames_in_log >= 0;
        if (checkpointed && frames_in_log >= 4 * threshold_) {
          std::lock_guard<std::mutex> pause_commits(writer_mutex_);
          restarted = sqlite3_wal_checkpoint_v2(database->Handle(), nullptr, SQLITE_CHECKPOINT_RESTART, nullptr,
                                                nullptr) == SQLITE_OK;
        }
      } catch (const std::exception&) {
        // The database could not be opened: the next commit asks again, and the WAL keeps every commit meanwhile.
      }
      lock.lock();
      if (checkpointed) ++completed_;
      if (restarted) ++restarts_;
      changed_.notify_all();
    }
  }

  std::string path_;
  int threshold_;
  std::mutex& writer_mutex_;
  int frames_at_last_commit_ = 0;            ///< only touched by OnCommit, i.e. by the thread holding the write lock
  int next_request_at_frames_ = threshold_;  ///< likewise
  std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t requests_ = 0;   ///< guarded by mutex_
  bool requested_ = false;     ///< guarded by mutex_
  bool stopping_ = false;      ///< guarded by mutex_
  std::size_t completed_ = 0;  ///< guarded by mutex_
  std::size_t restarts_ = 0;   ///< guarded by mutex_
  std::thread thread_;
};

SqliteConversationStore::SqliteConversationStore(const std::string& path) : SqliteConversationStore(path, Options{}) {}

SqliteConversationStore::SqliteConversationStore(const std::string& path, Options options) : options_(options) {
  if (path != ":memory:" && path.rfind("file:", 0) != 0) {
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    std::error_code error;
    if (!parent.empty()) std::filesystem::create_directories(parent, error);
    if (error) throw StoreError("create database folder '" + parent.string() + "': " + error.message());
  }
  database_ = std::make_unique<SqliteDatabase>(path);
  database_->Execute("PRAGMA busy_timeout = " + std::to_string(options_.busy_timeout.count()), "set busy_timeout");
  // journal_mode answers with the mode it got: "memory" for :memory:, "wal" for a file on a filesystem that
  // supports it. Anything else on a file means WAL's crash guarantees do not hold, so refuse.
  std::string mode = database_->QueryText("PRAGMA journal_mode = WAL", "set journal_mode=WAL").value_or("");
  if (mode != "wal" && mode != "memory") {
    throw StoreError("set journal_mode=WAL on '" + path + "': SQLite answered '" + mode + "'");
  }
  database_->Execute(
      options_.durability == Durability::full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
      "set synchronous");
  database_->Execute("PRAGMA foreign_keys = ON", "set foreign_keys=ON");
  // The group commit's savepoints keep their undo pages in a sub-journal: in memory, not in a temporary file that
  // is created, written and deleted per transaction (a few system calls and a file per group commit).
  database_->Execute("PRAGMA temp_store = MEMORY", "set temp_store=MEMORY");
  MigrateSchema(*database_);
  if (mode == "wal") {
    readers_ = std::make_unique<ReaderPool>(path, options_.busy_timeout);
    checkpointer_ = std::make_unique<BackgroundCheckpointer>(path, options_.checkpoint_after_frames, mutex_);
    // Replaces SQLite's automatic checkpoint (which is itself a WAL hook) with the background one.
    sqlite3_wal_hook(database_->Handle(), &BackgroundCheckpointer::OnCommit, checkpointer_.get());
  }
}

SqliteConversationStore::~SqliteConversationStore() {
  if (checkpointer_) sqlite3_wal_hook(database_->Handle(), nullptr, nullptr);
}

template <typename Use>
auto SqliteConversationStore::WithConnection(Use&& use) {
  if (transaction_owner_.load() == std::this_thread::get_id()) return use(*database_);
  std::lock_guard<std::mutex> lock(mutex_);
  return use(*database_);
}

template <typename Use>
auto SqliteConversationStore::WithReader(Use&& use) {
  if (!readers_ || transaction_owner_.load() == std::this_thread::get_id()) return WithConnection(use);
  auto lease = readers_->Acquire();
  return use(lease.database());
}

std::size_t SqliteConversationStore::WaitForBackgroundCheckpoints(std::size_t at_least,
                                                                  std::chrono::milliseconds timeout) {
  return checkpointer_ ? checkpointer_->WaitForCompleted(at_least, timeout) : 0;
}

std::size_t SqliteConversationStore::WaitForBackgroundWalRestarts(std::size_t at_least,
                                                                  std::chrono::milliseconds timeout) {
  return checkpointer_ ? checkpointer_->WaitForRestarts(at_least, timeout) : 0;
}

std::size_t SqliteConversationStore::BackgroundCheckpointsRequested() {
  return checkpointer_ ? checkpointer_->Requests() : 0;
}

std::size_t SqliteConversationStore::ReadConnectionsOpened() {
  return readers_ ? readers_->Opened() : 0;
}

struct SqliteConversationStore::PendingUnitOfWork {
  const std::function<void()>* work = nullptr;
  std::exception_ptr error;
  bool done = false;  ///< guarded by queue_mutex_: the unit's transaction has ended (committed or failed)
  /// Its own wake-up: a finished group wakes exactly its units and the next leader, not every waiting thread.
  std::condition_variable wake;
};

void SqliteConversationStore::InTransaction(const std::function<void()>& work) {
  if (transaction_owner_.load() == std::this_thread::get_id()) {
    // Nested: a savepoint, so a caught inner failure undoes only the inner writes.
    const std::string name = "nested_" + std::to_string(++transaction_depth_);
    database_->Execute("SAVEPOINT " + name, "begin savepoint");
    try {
      work();
    } catch (...) {
      --transaction_depth_;
      if (database_->InTransaction()) {
        database_->Execute("ROLLBACK TO " + name + "; RELEASE " + name, "roll back savepoint");
      }
      throw;
    }
    --transaction_depth_;
    database_->Execute("RELEASE " + name, "release savepoint");
    return;
  }
  // Shared: the leader wakes its group's units after releasing queue_mutex_ (a unit woken while the leader still
  // held it went straight back to sleep on the mutex: most of the futex calls under load), so a unit that sees
  // itself done and returns must not take its condition variable with it while the leader may still notify it.
  const auto mine = std::make_shared<PendingUnitOfWork>();
  mine->work = &work;
  std::unique_lock<std::mutex> queue_lock(queue_mutex_);
  queue_.push_back(mine);
  // The unit at the front leads once no group is running; the ones behind it join its group.
  mine->wake.wait(queue_lock, [&] { return mine->done || (!leader_active_ && queue_.front() == mine); });
  if (!mine->done) {
    // Leader: everything queued so far (this unit included) goes into one transaction.
    leader_active_ = true;
    std::vector<std::shared_ptr<PendingUnitOfWork>> batch;
    batch.swap(queue_);
    queue_lock.unlock();
    CommitGroup(batch);
    queue_lock.lock();
    leader_active_ = false;
    for (auto& unit : batch) unit->done = true;
    const auto next_leader = queue_.empty() ? nullptr : queue_.front();
    queue_lock.unlock();
    for (auto& unit : batch) {
      if (unit != mine) unit->wake.notify_one();
    }
    if (next_leader) next_leader->wake.notify_one();
  } else {
    queue_lock.unlock();
  }
  if (mine->error) std::rethrow_exception(mine->error);
}

std::size_t SqliteConversationStore::QueuedUnitsOfWork() {
  std::lock_guard<std::mutex> lock(queue_mutex_);
  return queue_.size();
}

void SqliteConversationStore::CommitGroup(const std::vector<std::shared_ptr<PendingUnitOfWork>>& batch) {
  std::lock_guard<std::mutex> lock(mutex_);
  transaction_owner_.store(std::this_thread::get_id());
  struct OwnerReset {
    std::atomic<std::thread::id>& owner;
    ~OwnerReset() { owner.store(std::thread::id()); }
  } owner_reset{transaction_owner_};
  try {
    SqliteTransaction transaction(*database_);
    if (batch.size() == 1) {
      // Alone: no savepoint needed, a throw rolls the whole transaction back.
      try {
        (*batch.front()->work)();
      } catch (...) {
        batch.front()->error = std::current_exception();
        return;
      }
    } else {
      for (const auto& unit : batch) {
        if (!database_->InTransaction()) {
          // An earlier unit's failure (SQLITE_FULL, SQLITE_IOERR) ended the whole transaction.
          throw StoreError("group commit: the transaction was rolled back by another unit's failure");
        }
        database_->Prepare("SAVEPOINT group_unit", "begin unit savepoint").Run();
        try {
          (*unit->work)();
        } catch (...) {
          unit->error = std::current_exception();
          if (database_->InTransaction()) {
            database_->Prepare("ROLLBACK TO group_unit", "roll back unit savepoint").Run();
            database_->Prepare("RELEASE group_unit", "release unit savepoint").Run();
          }
          continue;
        }
        database_->Prepare("RELEASE group_unit", "release unit savepoint").Run();
      }
      if (!database_->InTransaction()) {
        throw StoreError("group commit: the transaction was rolled back by another unit's failure");
      }
    }
    transaction.Commit();
  } catch (...) {
    const auto error = std::current_exception();
    for (const auto& unit : batch) {
      if (!unit->error) unit->error = error;
    }
  }
}

std::optional<ConversationRecord> SqliteConversationStore::FindConversation(const std::string& channel,
                                                                            const std::string& external_id) {
  return WithReader([&](SqliteDatabase& db) -> std::optional<ConversationRecord> {
    auto statement = db.Prepare(
        std::string("SELECT ") + kConversationColumns + " FROM conversations WHERE channel = ?1 AND external_id = ?2",
        "find conversation");
    statement.Bind(1, channel).Bind(2, external_id);
    if (!statement.Step()) return std::nullopt;
    return ReadConversation(statement);
  });
}

std::optional<ConversationRecord> SqliteConversationStore::GetConversation(std::int64_t conversation_id) {
  return WithReader([&](SqliteDatabase& db) -> std::optional<ConversationRecord> {
    auto statement = db.Prepare(std::string("SELECT ") + kConversationColumns + " FROM conversations WHERE id = ?1",
                                "get conversation");
    statement.Bind(1, conversation_id);
    if (!statement.Step()) return std::nullopt;
    return ReadConversation(statement);
  });
}

std::optional<ConversationRecord> SqliteConversationStore::FindConversationHeader(const std::string& channel,
                                                                                  const std::string& external_id) {
  return WithReader([&](SqliteDatabase& db) -> std::optional<ConversationRecord> {
    auto statement = db.Prepare(std::string("SELECT ") + kConversationHeaderColumns +
                                    " FROM conversations WHERE channel = ?1 AND external_id = ?2",
                                "find conversation header");
    statement.Bind(1, channel).Bind(2, external_id);
    if (!statement.Step()) return std::nullopt;
    return ReadConversation(statement);
  });
}

std::int64_t SqliteConversationStore::SaveConversation(const ConversationRecord& conversation) {
  return WithConnection([&](SqliteDatabase& db) -> std::int64_t {
    const std::int64_t now = NowMs();
    if (conversation.id == 0) {
      auto statement = db.Prepare(
          "INSERT INTO conversations (channel, external_id, state_key, slots, status, triage_level, "
          "access_token_hash, created_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
          "insert conversation");
      statement.Bind(1, conversation.channel)
          .Bind(2, conversation.external_id)
          .Bind(3, conversation.state_key)
          .Bind(4, SlotsText(conversation))
          .Bind(5, conversation.status)
          .Bind(6, conversation.triage_level)
          .Bind(8, conversation.created_at_ms != 0 ? conversation.created_at_ms : now)
          .Bind(9, now);
      if (conversation.access_token_hash.empty()) {
        statement.BindNull(7);
      } else {
        statement.BindBlob(7, conversation.access_token_hash);
      }
      statement.Run();
      return db.LastInsertId();
    }
    // Channel, external id, token hash and creation time are fixed at insert: a save never rewrites identity.
    auto statement = db.Prepare(
        "UPDATE conversations SET state_key = ?2, slots = ?3, status = ?4, triage_level = ?5, updated_at_ms = ?6, "
        "revision = revision + 1 WHERE id = ?1 AND revision = ?7 AND created_at_ms = ?8",
        "update conversation");
    statement.Bind(1, conversation.id)
        .Bind(2, conversation.state_key)
        .Bind(3, SlotsText(conversation))
        .Bind(4, conversation.status)
        .Bind(5, conversation.triage_level)
        .Bind(6, now)
        .Bind(7, conversation.revision)
        .Bind(8, conversation.created_at_ms)
        .Run();
    if (db.Changes() == 0) {
      auto exists =
          db.Prepare("SELECT revision, created_at_ms FROM conversations WHERE id = ?1", "update conversation");
      exists.Bind(1, conversation.id);
      const std::string what = "update conversation " + std::to_string(conversation.id) + ": read at revision " +
                               std::to_string(conversation.revision);
      if (!exists.Step()) throw ConcurrentUpdateError(what + ", but another writer erased it");
      if (exists.Int(1) != conversation.created_at_ms) {
        throw ConcurrentUpdateError(what + ", but another writer erased it and created another under its id");
      }
      throw ConcurrentUpdateError(what + ", but another writer saved revision " + std::to_string(exists.Int(0)));
    }
    return conversation.id;
  });
}

void SqliteConversationStore::DeleteConversation(std::int64_t conversation_id) {
  WithConnection([&](SqliteDatabase& db) {
    const auto newest_id = [&db] {
      auto statement = db.Prepare("SELECT coalesce(max(id), 0) FROM messages", "read the newest message id");
      statement.Step();
      return statement.Int(0);
    };
    const std::int64_t newest_before = newest_id();
    db.Prepare("DELETE FROM conversations WHERE id = ?1", "delete conversation").Bind(1, conversation_id).Run();
    if (newest_id() < newest_before) {
      // The erase took the newest lines: an id floor row keeps SQLite's "largest id + 1" from giving their ids
      // again (they may still sit in an event stream's Last-Event-ID). One floor row is enough: the older ones
      // are all below this one.
      db.Execute("DELETE FROM messages WHERE conversation_id IS NULL", "drop the older id floor");
      db.Prepare(
            "INSERT INTO messages (id, conversation_id, author, text, kind, created_at_ms) "
            "VALUES (?1, NULL, 'system', '', 'id_floor', ?2)",
            "keep the erased message ids from coming back")
          .Bind(1, newest_before)
          .Bind(2, NowMs())
          .Run();
    }
  });
}

std::int64_t SqliteConversationStore::AppendMessage(const MessageRecord& message) {
  return WithConnection([&](SqliteDatabase& db) -> std::int64_t {
    auto statement = db.Prepare(
        "INSERT INTO messages (conversation_id, author, text, quick_replies, kind, client_message_id, in_reply_to, "
        "created_at_ms, triage) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        "append message");
    statement.Bind(1, message.conversation_id)
        .Bind(2, ToString(message.author))
        .Bind(3, message.text)
        .Bind(4, QuickRepliesText(message))
        .Bind(5, message.kind)
        .Bind(6, message.client_message_id)
        .Bind(7, message.in_reply_to)
        .Bind(8, message.created_at_ms != 0 ? message.created_at_ms : NowMs());
    BindTriage(statement, 9, message.triage);
    try {
      statement.Run();
    } catch (const StoreError& error) {
      // The only unique key a line can break is (conversation, client message id): a replay.
      if (error.code() == SQLITE_CONSTRAINT_UNIQUE && message.client_message_id) {
        throw DuplicateClientMessageError("append message: client message id '" + *message.client_message_id +
                                              "' is already stored for conversation " +
                                              std::to_string(message.conversation_id),
                                          error.code());
      }
      throw;
    }
    return db.LastInsertId();
  });
}

std::vector<std::int64_t> SqliteConversationStore::AppendMessages(const std::vector<MessageRecord>& messages) {
  std::vector<std::int64_t> ids;
  ids.reserve(messages.size());
  if (messages.empty()) return ids;
  WithConnection([&](SqliteDatabase& db) {
    const std::int64_t now = NowMs();
    for (std::size_t first = 0; first < messages.size(); first += kMaxRowsPerInsert) {
      const std::size_t rows = std::min(kMaxRowsPerInsert, messages.size() - first);
      auto statement = db.Prepare(AppendMessagesSql(rows), "append messages");
      int parameter = 1;
      for (std::size_t row = first; row < first + rows; ++row) {
        const MessageRecord& message = messages[row];
        statement.Bind(parameter, message.conversation_id)
            .Bind(parameter + 1, ToString(message.author))
            .Bind(parameter + 2, message.text)
            .Bind(parameter + 3, QuickRepliesText(message))
            .Bind(parameter + 4, message.kind)
            .Bind(parameter + 5, message.client_message_id)
            .Bind(parameter + 6, message.in_reply_to)
            .Bind(parameter + 7, message.created_at_ms != 0 ? message.created_at_ms : now);
        BindTriage(statement, parameter + 8, message.triage);
        parameter += 9;
      }
      statement.Run();
      // The rows of one VALUES list are inserted in order, each taking the largest id + 1, and the write
      // lock keeps every other writer out: the ids are consecutive and end at the last insert id.
      const std::int64_t last = db.LastInsertId();
      for (std::size_t row = 0; row < rows; ++row) {
        ids.push_back(last - static_cast<std::int64_t>(rows - 1 - row));
      }
    }
  });
  return ids;
}

std::optional<MessageRecord> SqliteConversationStore::FindByClientMessageId(std::int64_t conversation_id,
                                                                            const std::string& client_message_id) {
  return WithReader([&](SqliteDatabase& db) -> std::optional<MessageRecord> {
    auto statement = db.Prepare(std::string("SELECT ") + kMessageColumns +
                                    " FROM messages WHERE conversation_id = ?1 AND client_message_id = ?2",
                                "find message by client message id");
    statement.Bind(1, conversation_id).Bind(2, client_message_id);
    if (!statement.Step()) return std::nullopt;
    return ReadMessage(statement);
  });
}

std::vector<MessageRecord> SqliteConversationStore::MessagesAfter(std::int64_t conversation_id, std::int64_t after_id,
                                                                  int limit) {
  return WithReader([&](SqliteDatabase& db) {
    auto statement = db.Prepare(std::string("SELECT ") + kMessageColumns +
                                    " FROM messages WHERE conversation_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
                                "read messages");
    statement.Bind(1, conversation_id).Bind(2, after_id).Bind(3, static_cast<std::int64_t>(limit));
    return ReadMessages(statement);
  });
}

std::vector<MessageRecord> SqliteConversationStore::RepliesTo(std::int64_t conversation_id,
                                                              std::int64_t user_message_id) {
  return WithReader([&](SqliteDatabase& db) {
    auto statement = db.Prepare(std::string("SELECT ") + kMessageColumns +
                                    " FROM messages WHERE conversation_id = ?1 AND id > ?2 AND in_reply_to = ?2 "
                                    "ORDER BY id",
                                "read replies");
    statement.Bind(1, conversation_id).Bind(2, user_message_id);
    return ReadMessages(statement);
  });
}

std::int64_t SqliteConversationStore::OpenEscalation(const EscalationRecord& escalation) {
  return WithConnection([&](SqliteDatabase& db) -> std::int64_t {
    db.Prepare(
          "INSERT INTO escalations (conversation_id, level, flags, evidence, reason, status, claimed_by, "
          "created_at_ms, claimed_at_ms, closed_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
          "open escalation")
        .Bind(1, escalation.conversation_id)
        .Bind(2, escalation.level)
        .Bind(3, DumpJson(escalation.flags))
        .Bind(4, DumpJson(escalation.evidence))
        .Bind(5, escalation.reason)
        .Bind(6, escalation.status)
        .Bind(7, escalation.claimed_by)
        .Bind(8, escalation.created_at_ms != 0 ? escalation.created_at_ms : NowMs())
        .Bind(9, escalation.claimed_at_ms)
        .Bind(10, escalation.closed_at_ms)
        .Run();
    return db.LastInsertId();
  });
}

void SqliteConversationStore::UpdateEscalation(const EscalationRecord& escalation) {
  WithConnection([&](SqliteDatabase& db) {
    db.Prepare(
          "UPDATE escalations SET level = ?2, flags = ?3, evidence = ?4, reason = ?5, status = ?6, claimed_by = ?7, "
          "claimed_at_ms = ?8, closed_at_ms = ?9 WHERE id = ?1",
          "update escalation")
        .Bind(1, escalation.id)
        .Bind(2, escalation.level)
        .Bind(3, DumpJson(escalation.flags))
        .Bind(4, DumpJson(escalation.evidence))
        .Bind(5, escalation.reason)
        .Bind(6, escalation.status)
        .Bind(7, escalation.claimed_by)
        .Bind(8, escalation.claimed_at_ms)
        .Bind(9, escalation.closed_at_ms)
        .Run();
    if (db.Changes() == 0)
      throw StoreError("update escalation: no escalation with id " + std::to_string(escalation.id));
  });
}

std::vector<EscalationRecord> SqliteConversationStore::EscalationsFor(std::int64_t conversation_id) {
  return WithReader([&](SqliteDatabase& db) {
    auto statement = db.Prepare(
        std::string("SELECT ") + kEscalationColumns + " FROM escalations WHERE conversation_id = ?1 ORDER BY id",
        "read escalations");
    statement.Bind(1, conversation_id);
    return ReadEscalations(statement);
  });
}

std::vector<EscalationRecord> SqliteConversationStore::EscalationQueue() {
  return WithReader([&](SqliteDatabase& db) {
    auto statement = db.Prepare(std::string("SELECT ") + kEscalationColumns +
                                    " FROM escalations WHERE status IN ('open', 'claimed') ORDER BY " + kLevelRank +
                                    ", created_at_ms, id",
                                "read escalation queue");
    return ReadEscalations(statement);
  });
}

void SqliteConversationStore::RecordUnansweredQuestion(const std::string& question, std::int64_t conversation_id) {
  WithConnection([&](SqliteDatabase& db) {
    db.Prepare("INSERT INTO unanswered_questions (conversation_id, question, created_at_ms) VALUES (?1, ?2, ?3)",
               "record unanswered question")
        .Bind(1, conversation_id)
        .Bind(2, question)
        .Bind(3, NowMs())
        .Run();
  });
}

std::vector<UnansweredQuestionRecord> SqliteConversationStore::UnansweredQuestionsFor(std::int64_t conversation_id) {
  return WithReader([&](SqliteDatabase& db) {
    auto statement = db.Prepare(
        "SELECT id, conversation_id, question, created_at_ms FROM unanswered_questions WHERE conversation_id = ?1 "
        "ORDER BY id",
        "read unanswered questions");
    statement.Bind(1, conversation_id);
    return ReadUnansweredQuestions(statement);
  });
}

std::vector<UnansweredQuestionRecord> SqliteConversationStore::RecentUnansweredQuestions(int limit) {
  return WithReader([&](SqliteDatabase& db) {
    auto statement = db.Prepare(
        "SELECT id, conversation_id, question, created_at_ms FROM unanswered_questions ORDER BY id DESC LIMIT ?1",
        "read recent unanswered questions");
    statement.Bind(1, static_cast<std::int64_t>(limit));
    return ReadUnansweredQuestions(statement);
  });
}

std::int64_t SqliteConversationStore::AddCoachNote(const CoachNoteRecord& note) {
  return WithConnection([&](SqliteDatabase& db) -> std::int64_t {
    db.Prepare("INSERT INTO coach_notes (conversation_id, coach_name, text, created_at_ms) VALUES (?1, ?2, ?3, ?4)",
               "add coach note")
        .Bind(1, note.conversation_id)
        .Bind(2, note.coach_name)
        .Bind(3, note.text)
        .Bind(4, note.created_at_ms != 0 ? note.created_at_ms : NowMs())
        .Run();
    return db.LastInsertId();
  });
}

std::vector<CoachNoteRecord> SqliteConversationStore::CoachNotesFor(std::int64_t conversation_id) {
  return WithReader([&](SqliteDatabase& db) {
    auto statement = db.Prepare(
        "SELECT id, conversation_id, coach_name, text, created_at_ms FROM coach_notes WHERE conversation_id = ?1 "
        "ORDER BY id",
        "read coach notes");
    statement.Bind(1, conversation_id);
    std::vector<CoachNoteRecord> notes;
    while (statement.Step()) {
      notes.push_back({statement.Int(0), statement.Int(1), statement.Text(2), statement.Text(3), statement.Int(4)});
    }
    return notes;
  });
}

void SqliteConversationStore::Audit(std::int64_t conversation_id, const std::string& event,
                                    const nlohmann::json& details) {
  WithConnection([&](SqliteDatabase& db) {
    db.Prepare("INSERT INTO audit_log (conversation_id, event, details, created_at_ms) VALUES (?1, ?2, ?3, ?4)",
               "write audit entry")
        .Bind(1, conversation_id)
        .Bind(2, event)
        .Bind(3, DumpJson(details))
        .Bind(4, NowMs())
        .Run();
  });
}

std::vector<AuditRecord> SqliteConversationStore::AuditTrail(std::int64_t conversation_id) {
  return WithReader([&](SqliteDatabase& db) {
    auto statement = db.Prepare(
        "SELECT id, conversation_id, event, details, created_at_ms FROM audit_log WHERE conversation_id = ?1 "
        "ORDER BY id",
        "read audit trail");
    statement.Bind(1, conversation_id);
    std::vector<AuditRecord> trail;
    while (statement.Step()) {
      trail.push_back({statement.Int(0), statement.Int(1), statement.Text(2),
                       ParseJson(statement.Text(3), nlohmann::json::object()), statement.Int(4)});
    }
    return trail;
  });
}

StoreMetrics SqliteConversationStore::Metrics() {
  return WithReader([&](SqliteDatabase& db) {
    StoreMetrics metrics;
    // Inside one read transaction, so the four gauges agree with each other.
    const bool own_transaction = !db.InTransaction();
    if (own_transaction) db.Execute("BEGIN", "begin metrics read");
    try {
      // One scan for the three conversation gauges (no index serves them: see schema version 7).
      auto conversations = db.Prepare(
          "SELECT state_key, status, triage_level, COUNT(*) FROM conversations GROUP BY state_key, status, "
          "triage_level",
          "count conversations");
      while (conversations.Step()) {
        const auto count = conversations.Int(3);
        metrics.conversations_by_state[conversations.Text(0)] += count;
        metrics.conversations_by_status[conversations.Text(1)] += count;
        if (!conversations.IsNull(2)) metrics.conversations_by_level[conversations.Text(2)] += count;
      }
      auto escalations =
          db.Prepare("SELECT level, COUNT(*) FROM escalations WHERE status IN ('open', 'claimed') GROUP BY level",
                     "count open escalations");
      metrics.open_escalations_by_level = ReadCounts(escalations);
    } catch (...) {
      if (own_transaction && db.InTransaction()) db.Execute("ROLLBACK", "end metrics read");
      throw;
    }
    if (own_transaction) db.Execute("COMMIT", "end metrics read");
    return metrics;
  });
}

bool SqliteConversationStore::Ping() noexcept {
  try {
    return WithConnection([&](SqliteDatabase& db) { return db.QueryText("SELECT 1", "ping").value_or("") == "1"; });
  } catch (...) {
    return false;
  }
}

void SqliteConversationStore::Checkpoint() {
  WithConnection([&](SqliteDatabase& db) { db.QueryText("PRAGMA wal_checkpoint(TRUNCATE)", "checkpoint the WAL"); });
}

std::vector<std::string> SqliteConversationStore::IntegrityCheck() {
  return WithConnection([&](SqliteDatabase& db) {
    std::vector<std::string> problems;
    auto statement = db.Prepare("PRAGMA integrity_check", "integrity check");
    while (statement.Step()) {
      std::string line = statement.Text(0);
      if (line != "ok") problems.push_back(std::move(line));
    }
    auto foreign_keys = db.Prepare("PRAGMA foreign_key_check", "foreign key check");
    while (foreign_keys.Step()) {
      problems.push_back("foreign key violation in " + foreign_keys.Text(0) + " row " + foreign_keys.Text(1));
    }
    return problems;
  });
}

int SqliteConversationStore::SchemaVersion() {
  return WithConnection([&](SqliteDatabase& db) { return bot::SchemaVersion(db); });
}

std::string SqliteConversationStore::ReadPragma(const std::string& name) {
  if (name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != std::string::npos) {
    throw std::invalid_argument("ReadPragma: not a pragma name: " + name);
  }
  return WithConnection(
      [&](SqliteDatabase& db) { return db.QueryText("PRAGMA " + name, "read pragma " + name).value_or(""); });
}

}  // namespace coach::bot
