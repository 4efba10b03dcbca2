#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bot/conversation_store.h"
#include "bot/sqlite_database.h"

namespace coach::bot {

/// How hard a commit tries to reach the disk (docs/storage.md). WAL with `normal` survives a process crash,
/// SIGKILL included, but may lose the last commits on a power cut; `full` fsyncs every commit and survives both.
enum class Durability { normal, full };
std::string_view ToString(Durability durability);
/// "normal" or "full"; nullopt for anything else.
std::optional<Durability> ParseDurability(std::string_view name);

/// ConversationStore on one SQLite file in WAL mode. One writer connection behind a mutex (SQLite allows one
/// writer at a time anyway). Reads made outside a transaction use a pool of read-only connections, so that a
/// request checking a token or a transcript never queues behind another turn's commit (WAL readers see the last
/// commit and do not block the writer). Checkpoints run on a background thread: SQLite's automatic checkpoint
/// would copy and fsync pages inside whichever commit crossed the threshold, stalling every turn queued behind it.
/// Thread-safe: InTransaction holds the writer for the whole callback; a write called outside a transaction
/// takes the writer for that one statement; a read inside this thread's transaction uses the writer (it must see
/// the transaction's own rows). An in-memory database (tests) has one connection for everything. Outer InTransaction
/// calls of different threads are group-committed: what queued while one transaction ran is run by one thread in the
/// next transaction, each unit in its own savepoint (a throwing unit undoes only its own writes), and each caller
/// returns once that transaction committed. A unit of work must therefore not depend on running on its caller's thread.
class SqliteConversationStore final : public ConversationStore {
 public:
  struct Options {
    Durability durability = Durability::normal;
    /// How long a statement waits for another process's lock (a CLI command on the same file) before failing.
    std::chrono::milliseconds busy_timeout{5000};
    /// WAL frames after which the background thread checkpoints: 16 MiB of 4 KiB pages, four times SQLite's own
    /// default. Each checkpoint costs two fdatasyncs and copies every page changed since the last one; under load
    /// SQLite's 1,000 frames meant 34 checkpoints a second, each rewriting the same hot pages (conversation rows,
    /// index leaves). The WAL starts over at four times this (see BackgroundCheckpointer): at most ~64 MiB.
    int checkpoint_after_frames = 4000;
  };

  /// Opens or creates `path` (":memory:" for tests; parent folders are created), applies the pragmas and the
  /// migrations. Throws SchemaTooNewError for a database from a newer build, StoreError for anything else.
  explicit SqliteConversationStore(const std::string& path);
  SqliteConversationStore(const std::string& path, Options options);
  ~SqliteConversationStore() override;

  void InTransaction(const std::function<void()>& work) override;

  std::optional<ConversationRecord> FindConversation(const std::string& channel,
                                                     const std::string& external_id) override;
  std::optional<ConversationRecord> GetConversation(std::int64_t conversation_id) override;
  std::optional<ConversationRecord> FindConversationHeader(const std::string& channel,
                                                           const std::string& external_id) override;
  std::int64_t SaveConversation(const ConversationRecord& conversation) override;
  void DeleteConversation(std::int64_t conversation_id) override;

  std::int64_t AppendMessage(const MessageRecord& message) override;
  std::vector<std::int64_t> AppendMessages(const std::vector<MessageRecord>& messages) override;
  std::optional<MessageRecord> FindByClientMessageId(std::int64_t conversation_id,
                                                     const std::string& client_message_id) override;
  std::vector<MessageRecord> MessagesAfter(std::int64_t conversation_id, std::int64_t after_id, int limit) override;
  std::vector<MessageRecord> RepliesTo(std::int64_t conversation_id, std::int64_t user_message_id) override;

  std::int64_t OpenEscalation(const EscalationRecord& escalation) override;
  void UpdateEscalation(const EscalationRecord& escalation) override;
  std::vector<EscalationRecord> EscalationsFor(std::int64_t conversation_id) override;
  std::vector<EscalationRecord> EscalationQueue() override;

  void RecordUnansweredQuestion(const std::string& question, std::int64_t conversation_id) override;
  std::vector<UnansweredQuestionRecord> UnansweredQuestionsFor(std::int64_t conversation_id) override;
  std::vector<UnansweredQuestionRecord> RecentUnansweredQuestions(int limit) override;

  std::int64_t AddCoachNote(const CoachNoteRecord& note) override;
  std::vector<CoachNoteRecord> CoachNotesFor(std::int64_t conversation_id) override;

  void Audit(std::int64_t conversation_id, const std::string& event, const nlohmann::json& details) override;
  std::vector<AuditRecord> AuditTrail(std::int64_t conversation_id) override;

  StoreMetrics Metrics() override;
  bool Ping() noexcept override;

  /// Copies the WAL into the database file and truncates it (graceful shutdown, backups).
  void Checkpoint();
  /// PRAGMA integrity_check: empty when the database is sound, else SQLite's findings.
  std::vector<std::string> IntegrityCheck();
  /// The database's schema version (LatestSchemaVersion() after a successful open).
  int SchemaVersion();
  /// A pragma's current value as SQLite reports it, for diagnostics and tests ("journal_mode" gives "wal",
  /// "synchronous" gives "1" for normal, "2" for full). Only plain pragma names are accepted.
  std::string ReadPragma(const std::string& name);
  Durability durability() const { return options_.durability; }
  /// Outer units of work queued for the next group commit (tests use it to form a group deterministically).
  std::size_t QueuedUnitsOfWork();
  /// Background checkpoints that succeeded so far; waits up to `timeout` for at least `at_least` of them (tests).
  std::size_t WaitForBackgroundCheckpoints(std::size_t at_least, std::chrono::milliseconds timeout);
  /// The same for the RESTART checkpoints that let the WAL start over under steady load (tests).
  std::size_t WaitForBackgroundWalRestarts(std::size_t at_least, std::chrono::milliseconds timeout);
  /// Checkpoints the commits asked the background thread for: one per `checkpoint_after_frames` frames the WAL grew
  /// by (tests).
  std::size_t BackgroundCheckpointsRequested();
  /// Read connections opened so far (tests: reads outside a transaction do not use the writer).
  std::size_t ReadConnectionsOpened();

 private:
  /// Runs `use` with the connection: directly inside this thread's transaction, else under the mutex.
  template <typename Use>
  auto WithConnection(Use&& use);
  /// Runs a read-only `use`: on the writer inside this thread's transaction or for an in-memory database, else
  /// on a pooled read connection.
  template <typename Use>
  auto WithReader(Use&& use);

  class ReaderPool;
  class BackgroundCheckpointer;

  /// One outer InTransaction call waiting for (or in) a group commit.
  struct PendingUnitOfWork;
  /// Runs `batch` in one transaction, each unit in its own savepoint; records each unit's outcome.
  void CommitGroup(const std::vector<std::shared_ptr<PendingUnitOfWork>>& batch);

  Options options_;
  // Group commit: callers queue their unit of work; one of them (the leader) runs everything queued in one
  // transaction and one commit (one WAL append, one fsync with `full`) while the next callers queue behind it.
  std::mutex queue_mutex_;
  std::vector<std::shared_ptr<PendingUnitOfWork>> queue_;  ///< guarded by queue_mutex_
  bool leader_active_ = false;                             ///< guarded by queue_mutex_
  std::mutex mutex_;
  std::atomic<std::thread::id> transaction_owner_{};
  int transaction_depth_ = 0;  ///< guarded by mutex_ (only the owner touches it)
  std::unique_ptr<SqliteDatabase> database_;
  std::unique_ptr<ReaderPool> readers_;                   ///< null for an in-memory database
  std::unique_ptr<BackgroundCheckpointer> checkpointer_;  ///< null for an in-memory database
};

}  // namespace coach::bot
