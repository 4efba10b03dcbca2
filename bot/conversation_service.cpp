#include "bot/conversation_service.h"

#include <sodium.h>

#include <algorithm>
#include <condition_variable>
#include <iterator>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "bot/conversation_locks.h"
#include "bot/json_writer.h"
#include "dialog/text_input.h"

namespace coach::bot {
namespace {

std::int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string LockKey(const std::string& channel, const std::string& external_id) {
  std::string key = channel;
  key += '\0';
  key += external_id;
  return key;
}

// Built member by member: nlohmann's initializer-list form copies every element through a temporary list, and
// this runs for every bot line.
nlohmann::json QuickRepliesJson(const std::vector<dialog::QuickReply>& quick_replies) {
  auto json = nlohmann::json::array();
  json.get_ref<nlohmann::json::array_t&>().reserve(quick_replies.size());
  for (const auto& quick_reply : quick_replies) {
    nlohmann::json item(nlohmann::json::value_t::object);
    item["label"] = quick_reply.label;
    item["value"] = quick_reply.value;
    json.push_back(std::move(item));
  }
  return json;
}

nlohmann::json ToJson(const std::vector<std::string>& strings) {
  return nlohmann::json(strings);
}

nlohmann::json MessageJson(const MessageRecord& message) {
  nlohmann::json json = {{"id", message.id},     {"author", ToString(message.author)},
                         {"text", message.text}, {"quick_replies", message.quick_replies},
                         {"kind", message.kind}, {"created_at_ms", message.created_at_ms}};
  if (message.client_message_id) json["client_message_id"] = *message.client_message_id;
  if (message.in_reply_to) json["in_reply_to"] = *message.in_reply_to;
  if (!message.triage.is_null()) json["triage"] = message.triage;
  return json;
}

nlohmann::json EscalationJson(const EscalationRecord& escalation) {
  return {{"id", escalation.id},
          {"level", escalation.level},
          {"flags", escalation.flags},
          {"evidence", escalation.evidence},
          {"reason", escalation.reason},
          {"status", escalation.status},
          {"claimed_by", escalation.claimed_by ? nlohmann::json(*escalation.claimed_by) : nlohmann::json()},
          {"created_at_ms", escalation.created_at_ms},
          {"claimed_at_ms", escalation.claimed_at_ms ? nlohmann::json(*escalation.claimed_at_ms) : nlohmann::json()},
          {"closed_at_ms", escalation.closed_at_ms ? nlohmann::json(*escalation.closed_at_ms) : nlohmann::json()}};
}

}  // namespace

struct ConversationService::Impl {
  Impl(ConversationStore& store_in, const dialog::DialogDependencies& dialog_in) : store(store_in), dialog(dialog_in) {}

  ConversationStore& store;
  dialog::DialogDependencies dialog;
  ConversationLocks locks;

  // Wake-ups for WaitForMessages. An entry exists only while someone waits on that conversation (registered
  // before its first read), so memory follows the open event streams and a commit wakes only its own readers.
  struct Waiters {
    std::condition_variable changed;
    std::int64_t latest_message_id = 0;
    int count = 0;
  };
  std::mutex waiters_mutex;
  std::unordered_map<std::int64_t, std::unique_ptr<Waiters>> waiters;
  bool stopping = false;

  // Each conversation's row as its last committed turn in this process left it, so that the next turn reads
  // nothing before running the dialog (no token-check read, no row read, no replay lookup). Staleness is caught
  // at the write instead: the save is conditional on the revision and creation time remembered here, and a
  // replayed client message id breaks the unique key of the runner line. Writes by this process outside a turn
  // (coach, hand-back, erase) forget the entry under the conversation's lock.
  static constexpr std::size_t kMaxRemembered = 4096;
  std::mutex remembered_mutex;
  std::unordered_map<std::int64_t, ConversationRecord> remembered;

  /// Moves out the remembered row of `conversation_id`, if any.
  std::optional<ConversationRecord> TakeRemembered(std::int64_t conversation_id) {
    std::lock_guard<std::mutex> lock(remembered_mutex);
    auto found = remembered.find(conversation_id);
    if (found == remembered.end()) return std::nullopt;
    auto record = std::move(found->second);
    remembered.erase(found);
    return record;
  }

  /// Remembers a row exactly as committed (its revision is the stored one).
  void Remember(ConversationRecord&& record) {
    std::lock_guard<std::mutex> lock(remembered_mutex);
    // A crude bound: the busy conversations refill it within a turn each.
    if (remembered.size() >= kMaxRemembered) remembered.clear();
    const auto id = record.id;
    remembered.insert_or_assign(id, std::move(record));
  }

  void Forget(std::int64_t conversation_id) {
    std::lock_guard<std::mutex> lock(remembered_mutex);
    remembered.erase(conversation_id);
  }

  // What admits a request (id and token hash), by channel and external id. It never changes while the row
  // exists, so an entry stays valid until this process erases the conversation; an erase by another process is
  // seen by the next turn's conditional save (404 then) and by reads as an empty conversation.
  static constexpr std::size_t kMaxIdentities = 65536;
  std::mutex identities_mutex;
  std::unordered_map<std::string, ConversationIdentity> identities;
  // Counts erases: a row read before an erase committed must not be cached after it (see RememberIdentity).
  std::uint64_t erase_epoch = 0;

  std::optional<ConversationIdentity> CachedIdentity(const std::string& key) {
    std::lock_guard<std::mutex> lock(identities_mutex);
    auto found = identities.find(key);
    if (found == identities.end()) return std::nullopt;
    return found->second;
  }

  std::uint64_t EraseEpoch() {
    std::lock_guard<std::mutex> lock(identities_mutex);
    return erase_epoch;
  }

  /// Caches what `record` (read when the erase epoch was `read_at_epoch`) says; skipped when an erase has
  /// committed since the read, which may have removed this very row.
  void RememberIdentity(const std::string& key, const ConversationRecord& record, std::uint64_t read_at_epoch) {
    std::lock_guard<std::mutex> lock(identities_mutex);
    if (read_at_epoch != erase_epoch) return;
    if (identities.size() >= kMaxIdentities) identities.clear();
    identities.insert_or_assign(key, ConversationIdentity{record.id, record.access_token_hash});
  }

  /// After an erase committed.
  void ForgetIdentity(const std::string& key) {
    std::lock_guard<std::mutex> lock(identities_mutex);
    ++erase_epoch;
    identities.erase(key);
  }

  /// Called after a commit, never before: a woken reader must find the rows.
  void Publish(std::int64_t conversation_id, std::int64_t message_id) {
    std::lock_guard<std::mutex> lock(waiters_mutex);
    auto found = waiters.find(conversation_id);
    if (found == waiters.end()) return;
    found->second->latest_message_id = std::max(found->second->latest_message_id, message_id);
    found->second->changed.notify_all();
  }

  /// One bot line per dialog reply, quick replies already serialized; conversation, ids and in_reply_to are set
  /// by AppendLines. Built before a transaction, so that the group commit does not spend its time on them.
  static std::vector<MessageRecord> ReplyLines(const std::vector<dialog::Reply>& replies) {
    std::vector<MessageRecord> lines;
    lines.reserve(replies.size());
    const std::int64_t now = NowMs();
    for (const auto& reply : replies) {
      MessageRecord message;
      message.author = reply.kind == dialog::ReplyKind::system ? Author::system : Author::bot;
      message.text = reply.text;
      if (!reply.quick_replies.empty()) {
        message.quick_replies = QuickRepliesJson(reply.quick_replies);
        message.quick_replies_text = DumpJsonText(message.quick_replies);
      }
      message.kind = std::string(dialog::ToString(reply.kind));
      message.created_at_ms = now;
      lines.push_back(std::move(message));
    }
    return lines;
  }

  /// Appends `lines` to the conversation (in one statement) and gives them their ids.
  void AppendLines(std::int64_t conversation_id, std::vector<MessageRecord>& lines,
                   std::optional<std::int64_t> in_reply_to) {
    for (auto& line : lines) {
      line.conversation_id = conversation_id;
      line.in_reply_to = in_reply_to;
    }
    const auto ids = store.AppendMessages(lines);
    for (std::size_t index = 0; index < lines.size(); ++index) lines[index].id = ids[index];
  }

  /// Appends one bot line per dialog reply; returns the stored records.
  std::vector<MessageRecord> StoreReplies(std::int64_t conversation_id, const std::vector<dialog::Reply>& replies,
                                          std::optional<std::int64_t> in_reply_to) {
    auto lines = ReplyLines(replies);
    AppendLines(conversation_id, lines, in_reply_to);
    return lines;
  }

  /// Moves the dialog's state into the row (state key, slots, status, level); the conversation is spent.
  static void TakeState(ConversationRecord& record, dialog::TriageConversation&& conversation) {
    record.status = std::string(dialog::ToString(conversation.Status()));
    const auto level = conversation.Level();
    record.triage_level = level ? std::optional<std::string>(dialog::ToString(*level)) : std::nullopt;
    auto snapshot = std::move(conversation).Snapshot();
    record.state_key = std::move(snapshot.state_key);
    record.slots = std::move(snapshot.slots);
  }

  /// Stores what a turn asked for besides its replies and the runner line's triage: an escalation (and its audit
  /// entry), an unanswered question.
  void StoreTurnOutcome(std::int64_t conversation_id, const dialog::TurnResult& turn) {
    if (turn.escalation) {
      EscalationRecord escalation;
      escalation.conversation_id = conversation_id;
      escalation.level = std::string(dialog::ToString(turn.escalation->level));
      escalation.flags = ToJson(turn.escalation->flags);
      escalation.evidence = ToJson(turn.escalation->evidence);
      escalation.reason = turn.escalation->reason;
      const auto id = store.OpenEscalation(escalation);
      // Flag ids, not evidence: the evidence is the runner's own words.
      store.Audit(conversation_id, "escalation_opened",
                  {{"escalation_id", id},
                   {"level", escalation.level},
                   {"reason", escalation.reason},
                   {"flags", escalation.flags}});
    }
    if (turn.unanswered_question) store.RecordUnansweredQuestion(*turn.unanswered_question, conversation_id);
  }

  /// The record's dialog; its slots move into it (TakeState writes them back after the turn).
  dialog::TriageConversation RestoreTakingSlots(ConversationRecord& record) const {
    return dialog::TriageConversation(dialog, dialog::ConversationSnapshot{record.state_key, std::move(record.slots)});
  }

  /// The conversation's row and its lock, for operations addressed by id. Throws for an unknown id.
  std::pair<ConversationRecord, ConversationLocks::Guard> LockById(std::int64_t conversation_id) {
    auto record = store.GetConversation(conversation_id);
    if (!record) throw std::invalid_argument("no conversation with id " + std::to_string(conversation_id));
    // Channel and external id never change, so the key read before locking is the right one.
    auto guard = locks.Lock(LockKey(record->channel, record->external_id));
    return {std::move(*record), std::move(guard)};
  }

  /// The answer to a replayed client message id: the replies stored for its first sending, nothing changed.
  InboundResult Replay(const ConversationRecord& row, const MessageRecord& first_sending) {
    return InboundResult{row.id,        first_sending.id, store.RepliesTo(row.id, first_sending.id), row.status, true,
                         row.state_key, row.triage_level};
  }

  /// One turn on `record` (none: a new conversation): the dialog, then every write in one transaction, then the
  /// row is remembered. Throws ConcurrentUpdateError when the row changed since it was read (or remembered) and
  /// DuplicateClientMessageError for a replayed client message id; nothing is stored then.
  InboundResult RunTurn(const InboundMessage& inbound, const dialog::CleanText& clean,
                        std::optional<ConversationRecord> record) {
    const bool created = !record;
    std::optional<dialog::TriageConversation> conversation;
    std::vector<dialog::Reply> greeting;
    if (created) {
      conversation.emplace(dialog);
      greeting = conversation->Greet().replies;
      record = ConversationRecord{};
      record->channel = inbound.channel;
      record->external_id = inbound.external_id;
      record->created_at_ms = NowMs();
    } else {
      conversation.emplace(RestoreTakingSlots(*record));
    }
    const auto level_before = record->triage_level;
    const auto turn = conversation->HandleMessage(clean.text);
    TakeState(*record, std::move(*conversation));

    // Everything the writes need is made here, outside the transaction: the group commit runs the queued turns'
    // writes one after another on one thread, and every other turn waits for it.
    record->slots_text = DumpJsonText(record->slots);
    MessageRecord user_line;
    user_line.author = Author::user;
    user_line.text = clean.text;
    if (!inbound.client_message_id.empty()) user_line.client_message_id = inbound.client_message_id;
    user_line.created_at_ms = NowMs();
    if (turn.decision && turn.decision->level != dialog::TriageLevel::not_pain) {
      user_line.triage = {{"level", dialog::ToString(turn.decision->level)}, {"flags", ToJson(turn.decision->flags)}};
    }
    auto reply_lines = ReplyLines(greeting);
    auto turn_lines = ReplyLines(turn.replies);
    std::move(turn_lines.begin(), turn_lines.end(), std::back_inserter(reply_lines));

    InboundResult result;
    store.InTransaction([&] {
      if (created) {
        record->id = store.SaveConversation(*record);
        store.Audit(record->id, "conversation_started", {{"channel", inbound.channel}});
      } else {
        store.SaveConversation(*record);
      }
      user_line.conversation_id = record->id;
      user_line.id = store.AppendMessage(user_line);
      AppendLines(record->id, reply_lines, user_line.id);
      StoreTurnOutcome(record->id, turn);
      if (clean.truncated || clean.had_invalid_utf8) {
        store.Audit(record->id, "input_cleaned",
                    {{"truncated", clean.truncated}, {"invalid_utf8", clean.had_invalid_utf8}});
      }
    });
    record->slots_text.reset();  // the next turn changes the slots
    result.conversation_id = record->id;
    result.user_message_id = user_line.id;
    result.replies = std::move(reply_lines);
    result.status = record->status;
    result.state_key = record->state_key;
    result.triage_level = record->triage_level;
    result.triage_level_changed = record->triage_level != level_before;
    if (created) RememberIdentity(LockKey(inbound.channel, inbound.external_id), *record, EraseEpoch());
    if (!created) ++record->revision;  // what the conditional save stored
    Remember(std::move(*record));
    const auto last = result.replies.empty() ? result.user_message_id : result.replies.back().id;
    Publish(result.conversation_id, last);
    return result;
  }
};

ConversationService::ConversationService(ConversationStore& store, const dialog::DialogDependencies& dialog)
    : impl_(std::make_unique<Impl>(store, dialog)) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
}

ConversationService::~ConversationService() {
  StopWaiting();
}

InboundResult ConversationService::StartConversation(const std::string& channel, const std::string& external_id) {
  return StartConversation(channel, external_id, std::string());
}

InboundResult ConversationService::StartConversation(const std::string& channel, const std::string& external_id,
                                                     const std::string& access_token_hash) {
  const auto key = LockKey(channel, external_id);
  auto guard = impl_->locks.Lock(key);
  // Under the conversation's lock no erase of this row can commit between the read and the caching.
  if (auto existing = impl_->store.FindConversation(channel, external_id)) {
    impl_->RememberIdentity(key, *existing, impl_->EraseEpoch());
    InboundResult result{existing->id, 0, {}, existing->status, true, existing->state_key, existing->triage_level};
    for (auto& message : impl_->store.MessagesAfter(existing->id, 0, 50)) {
      if (message.author == Author::user || message.in_reply_to) break;
      result.replies.push_back(std::move(message));
    }
    return result;
  }
  dialog::TriageConversation conversation(impl_->dialog);
  const auto greeting = conversation.Greet();
  ConversationRecord record;
  record.channel = channel;
  record.external_id = external_id;
  record.access_token_hash = access_token_hash;
  record.created_at_ms = NowMs();
  Impl::TakeState(record, std::move(conversation));
  InboundResult result;
  impl_->store.InTransaction([&] {
    record.id = impl_->store.SaveConversation(record);
    result.conversation_id = record.id;
    result.replies = impl_->StoreReplies(record.id, greeting.replies, std::nullopt);
    impl_->store.Audit(record.id, "conversation_started", {{"channel", channel}});
  });
  result.status = record.status;
  result.state_key = record.state_key;
  result.triage_level = record.triage_level;
  impl_->RememberIdentity(key, record, impl_->EraseEpoch());
  impl_->Remember(std::move(record));
  if (!result.replies.empty()) impl_->Publish(result.conversation_id, result.replies.back().id);
  return result;
}

std::optional<ConversationIdentity> ConversationService::FindIdentity(const std::string& channel,
                                                                      const std::string& external_id) {
  const auto key = LockKey(channel, external_id);
  if (auto cached = impl_->CachedIdentity(key)) return cached;
  const auto epoch = impl_->EraseEpoch();
  auto header = impl_->store.FindConversationHeader(channel, external_id);
  if (!header) return std::nullopt;
  impl_->RememberIdentity(key, *header, epoch);
  return ConversationIdentity{header->id, std::move(header->access_token_hash)};
}

bool ConversationService::VerifyAccessToken(const std::string& channel, const std::string& external_id,
                                            const std::string& access_token_hash) {
  const auto identity = FindIdentity(channel, external_id);
  if (!identity || identity->access_token_hash.empty()) return false;
  const std::string& stored = identity->access_token_hash;
  // The length is not secret (a fixed-size hash); the bytes are compared in constant time.
  if (stored.size() != access_token_hash.size()) return false;
  return sodium_memcmp(stored.data(), access_token_hash.data(), stored.size()) == 0;
}

InboundResult ConversationService::HandleInbound(const InboundMessage& inbound) {
  // Stored as cleaned: the transcript must be valid UTF-8 for every reader (JSON export, SSE).
  const dialog::CleanText clean = dialog::CleanRunnerText(inbound.text);
  const auto key = LockKey(inbound.channel, inbound.external_id);
  auto guard = impl_->locks.Lock(key);

  // The row as this process's last turn committed it, when there is one: no read at all before the dialog.
  std::optional<ConversationRecord> record;
  if (const auto identity = impl_->CachedIdentity(key)) record = impl_->TakeRemembered(identity->id);
  bool remembered = record.has_value();
  while (true) {
    if (!remembered) {
      record = impl_->store.FindConversation(inbound.channel, inbound.external_id);
      if (record) impl_->RememberIdentity(key, *record, impl_->EraseEpoch());  // under the lock: no erase between
      if (record && !inbound.client_message_id.empty()) {
        if (auto seen = impl_->store.FindByClientMessageId(record->id, inbound.client_message_id)) {
          return impl_->Replay(*record, *seen);
        }
      }
      if (!record && !inbound.create_if_missing) {
        InboundResult missing;
        missing.not_found = true;
        return missing;
      }
    }
    try {
      return impl_->RunTurn(inbound, clean, std::move(record));
    } catch (const ConcurrentUpdateError&) {
      // A remembered row went stale (another process wrote or erased it): once more from a fresh read. A row
      // just read was changed mid-turn: the caller decides (nothing was stored).
      if (!remembered) throw;
      remembered = false;
    } catch (const DuplicateClientMessageError&) {
      // A replay the remembered path did not look up first: the first answer, nothing changed.
      const auto header = impl_->store.FindConversationHeader(inbound.channel, inbound.external_id);
      const auto seen =
          header ? impl_->store.FindByClientMessageId(header->id, inbound.client_message_id) : std::nullopt;
      if (!header || !seen) throw;
      return impl_->Replay(*header, *seen);
    }
  }
}

std::optional<ConversationRecord> ConversationService::FindConversation(const std::string& channel,
                                                                        const std::string& external_id) {
  return impl_->store.FindConversation(channel, external_id);
}

std::optional<ConversationRecord> ConversationService::FindConversationHeader(const std::string& channel,
                                                                              const std::string& external_id) {
  return impl_->store.FindConversationHeader(channel, external_id);
}

std::vector<MessageRecord> ConversationService::Transcript(std::int64_t conversation_id, std::int64_t after_id,
                                                           int limit) {
  return impl_->store.MessagesAfter(conversation_id, after_id, limit);
}

std::vector<MessageRecord> ConversationService::WaitForMessages(std::int64_t conversation_id, std::int64_t after_id,
                                                                std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Impl::Waiters* entry = nullptr;
  {
    std::lock_guard<std::mutex> lock(impl_->waiters_mutex);
    if (impl_->stopping) return {};
    auto& slot = impl_->waiters[conversation_id];
    if (!slot) slot = std::make_unique<Impl::Waiters>();
    ++slot->count;
    entry = slot.get();
  }
  struct Unregister {
    Impl& impl;
    std::int64_t conversation_id;
    Impl::Waiters* entry;
    ~Unregister() {
      std::lock_guard<std::mutex> lock(impl.waiters_mutex);
      if (--entry->count == 0) impl.waiters.erase(conversation_id);
    }
  } unregister{*impl_, conversation_id, entry};

  // Registered before reading: a commit after a read finds the entry and moves latest_message_id past `known`,
  // so the wait sees it; a commit before a read is in the read. No wake-up is lost, and a wake-up whose rows are
  // gone (an erase) raises `known` instead of spinning.
  std::int64_t known = after_id;
  while (true) {
    auto messages = impl_->store.MessagesAfter(conversation_id, after_id, 500);
    if (!messages.empty()) return messages;
    std::unique_lock<std::mutex> lock(impl_->waiters_mutex);
    const auto newer = [&] { return impl_->stopping || entry->latest_message_id > known; };
    if (!entry->changed.wait_until(lock, deadline, newer)) return {};
    if (impl_->stopping) return {};
    known = entry->latest_message_id;
  }
}

void ConversationService::StopWaiting() {
  std::lock_guard<std::mutex> lock(impl_->waiters_mutex);
  impl_->stopping = true;
  for (auto& [conversation_id, entry] : impl_->waiters) entry->changed.notify_all();
}

MessageRecord ConversationService::PostCoachMessage(std::int64_t conversation_id, const std::string& coach_name,
                                                    const std::string& text) {
  auto [unused, guard] = impl_->LockById(conversation_id);
  impl_->Forget(conversation_id);
  const dialog::CleanText clean = dialog::CleanRunnerText(text);
  MessageRecord coach_line;
  impl_->store.InTransaction([&] {
    auto record = impl_->store.GetConversation(conversation_id);
    if (!record) throw std::invalid_argument("no conversation with id " + std::to_string(conversation_id));
    if (record->status != "coach") {
      auto conversation = impl_->RestoreTakingSlots(*record);
      const auto joined = conversation.CoachJoined(coach_name);
      impl_->StoreReplies(record->id, joined.replies, std::nullopt);
      Impl::TakeState(*record, std::move(conversation));
      impl_->store.SaveConversation(*record);
      const std::int64_t now = NowMs();
      for (auto escalation : impl_->store.EscalationsFor(record->id)) {
        if (escalation.status != "open") continue;
        escalation.status = "claimed";
        escalation.claimed_by = coach_name;
        escalation.claimed_at_ms = now;
        impl_->store.UpdateEscalation(escalation);
      }
      impl_->store.Audit(record->id, "coach_joined", {{"coach", coach_name}});
    }
    coach_line.conversation_id = record->id;
    coach_line.author = Author::coach;
    coach_line.text = clean.text;
    coach_line.kind = std::string(dialog::ToString(dialog::ReplyKind::coach));
    coach_line.created_at_ms = NowMs();
    coach_line.id = impl_->store.AppendMessage(coach_line);
  });
  impl_->Publish(conversation_id, coach_line.id);
  return coach_line;
}

std::vector<MessageRecord> ConversationService::HandBackToBot(std::int64_t conversation_id) {
  auto [unused, guard] = impl_->LockById(conversation_id);
  impl_->Forget(conversation_id);
  std::vector<MessageRecord> lines;
  impl_->store.InTransaction([&] {
    auto record = impl_->store.GetConversation(conversation_id);
    if (!record) throw std::invalid_argument("no conversation with id " + std::to_string(conversation_id));
    if (record->status != "coach") return;
    auto conversation = impl_->RestoreTakingSlots(*record);
    const auto handed_back = conversation.HandBack();
    lines = impl_->StoreReplies(record->id, handed_back.replies, std::nullopt);
    Impl::TakeState(*record, std::move(conversation));
    impl_->store.SaveConversation(*record);
    const std::int64_t now = NowMs();
    for (auto escalation : impl_->store.EscalationsFor(record->id)) {
      if (escalation.status == "closed") continue;
      escalation.status = "closed";
      escalation.closed_at_ms = now;
      impl_->store.UpdateEscalation(escalation);
    }
    impl_->store.Audit(record->id, "handed_back", nlohmann::json::object());
  });
  if (!lines.empty()) impl_->Publish(conversation_id, lines.back().id);
  return lines;
}

nlohmann::json ConversationService::Export(std::int64_t conversation_id) {
  nlohmann::json exported;
  impl_->store.InTransaction([&] {
    const auto record = impl_->store.GetConversation(conversation_id);
    if (!record) return;
    auto messages = nlohmann::json::array();
    for (std::int64_t after = 0;;) {
      const auto page = impl_->store.MessagesAfter(conversation_id, after, 1000);
      for (const auto& message : page) messages.push_back(MessageJson(message));
      if (page.size() < 1000) break;
      after = page.back().id;
    }
    auto escalations = nlohmann::json::array();
    for (const auto& escalation : impl_->store.EscalationsFor(conversation_id)) {
      escalations.push_back(EscalationJson(escalation));
    }
    auto questions = nlohmann::json::array();
    for (const auto& question : impl_->store.UnansweredQuestionsFor(conversation_id)) {
      questions.push_back({{"question", question.question}, {"created_at_ms", question.created_at_ms}});
    }
    auto notes = nlohmann::json::array();
    for (const auto& note : impl_->store.CoachNotesFor(conversation_id)) {
      notes.push_back({{"coach", note.coach_name}, {"text", note.text}, {"created_at_ms", note.created_at_ms}});
    }
    exported = {{"conversation",
                 {{"id", record->id},
                  {"channel", record->channel},
                  {"external_id", record->external_id},
                  {"state_key", record->state_key},
                  {"slots", record->slots},
                  {"status", record->status},
                  {"triage_level", record->triage_level ? nlohmann::json(*record->triage_level) : nlohmann::json()},
                  {"created_at_ms", record->created_at_ms},
                  {"updated_at_ms", record->updated_at_ms}}},
                {"messages", std::move(messages)},
                {"escalations", std::move(escalations)},
                {"unanswered_questions", std::move(questions)},
                {"coach_notes", std::move(notes)}};
    impl_->store.Audit(conversation_id, "exported", nlohmann::json::object());
  });
  return exported;
}

bool ConversationService::Erase(std::int64_t conversation_id) {
  auto record = impl_->store.GetConversation(conversation_id);
  if (!record) return false;
  auto guard = impl_->locks.Lock(LockKey(record->channel, record->external_id));
  bool erased = false;
  impl_->Forget(conversation_id);
  impl_->store.InTransaction([&] {
    if (!impl_->store.GetConversation(conversation_id)) return;
    impl_->store.DeleteConversation(conversation_id);
    // Only that it happened: the channel is not personal, the external id (a chat id) is.
    impl_->store.Audit(conversation_id, "conversation_erased", {{"channel", record->channel}});
    erased = true;
  });
  impl_->ForgetIdentity(LockKey(record->channel, record->external_id));
  return erased;
}

std::vector<EscalationRecord> ConversationService::EscalationQueue() {
  return impl_->store.EscalationQueue();
}

}  // namespace coach::bot
