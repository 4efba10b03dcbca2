// The triage dialog as a Boost.MSM machine (functor front-end). Only this translation unit includes MSM
// (boost-msm.md, B2): it is the slow one to compile, and the rest of the project sees a plain class.
//
// Design, in short:
// - States are phases of the conversation; the question asked inside a phase is data (question_catalog),
//   kept in the slots as "question". State keys are stable strings; MSM's integer ids are never persisted.
// - Runner text is read *outside* the machine (red-flag detector first, then global commands, then the
//   current question's answer reader) and turned into one event. The machine decides where that leads.
// - Replies are produced by transition actions, never by entry actions, so restoring a state replays nothing.
// - No flags, no terminate/interrupt states, no deferred events (thread-safety and persistence, B4/B5).
#include "dialog/triage_conversation.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string_view>

#include <boost/mpl/vector/vector50.hpp>
#include <boost/msm/back/state_machine.hpp>
#include <boost/msm/front/functor_row.hpp>
#include <boost/msm/front/state_machine_def.hpp>

#include "dialog/question_catalog.h"
#include "dialog/text_input.h"

namespace coach::dialog {

std::string_view ToString(ConversationStatus status) {
  switch (status) {
    case ConversationStatus::waiting_for_coach:
      return "waiting_for_coach";
    case ConversationStatus::coach:
      return "coach";
    case ConversationStatus::bot:
      break;
  }
  return "bot";
}

namespace {

namespace msm = boost::msm;
namespace mpl = boost::mpl;
using msm::front::none;
using msm::front::Row;
using nlohmann::json;

// ---------------------------------------------------------------------------------------------------------------
// Conversation data the actions read and write (the machine's front-end holds a pointer to it).
struct Context {
  const DialogDependencies* deps = nullptr;
  json slots = json::object();
  std::vector<Reply> replies;
  std::optional<EscalationRequest> escalation;
};

void Say(Context& ctx, std::string text, ReplyKind kind = ReplyKind::normal, std::vector<QuickReply> options = {}) {
  ctx.replies.push_back(Reply{std::move(text), std::move(options), kind});
}

void Ask(Context& ctx, const Question& question, const std::string& lead = {}) {
  ctx.slots["question"] = question.id;
  Say(ctx, lead.empty() ? question.text : lead + " " + question.text, ReplyKind::normal, question.options);
}

void AskFirstOf(Context& ctx, std::string_view phase, const std::string& lead = {}) {
  const auto questions = QuestionsOf(phase);
  Ask(ctx, *questions.front(), lead);
}

const Question* CurrentQuestion(const Context& ctx) {
  if (!ctx.slots.contains("question") || !ctx.slots["question"].is_string()) return nullptr;
  return FindQuestion(ctx.slots["question"].get<std::string>());
}

// The question after the current one in the same phase, if any.
const Question* NextInPhase(const Context& ctx) {
  const Question* current = CurrentQuestion(ctx);
  if (current == nullptr) return nullptr;
  const auto questions = QuestionsOf(current->phase);
  auto it = std::find(questions.begin(), questions.end(), current);
  if (it == questions.end() || ++it == questions.end()) return nullptr;
  return *it;
}

void RaiseLevel(Context& ctx, TriageLevel level) {
  std::optional<TriageLevel> current;
  if (ctx.slots.contains("level") && ctx.slots["level"].is_string()) {
    current = ParseTriageLevel(ctx.slots["level"].get<std::string>());
  }
  if (!current || level > *current) ctx.slots["level"] = std::string(ToString(level));
}

std::optional<TriageLevel> LevelOf(const Context& ctx) {
  if (!ctx.slots.contains("level") || !ctx.slots["level"].is_string()) return std::nullopt;
  return ParseTriageLevel(ctx.slots["level"].get<std::string>());
}

int SlotInt(const Context& ctx, const char* name, int fallback) {
  const auto& answers = ctx.slots["answers"];
  if (answers.is_object() && answers.contains(name)) {
    const auto& value = answers[name];
    if (value.is_number_integer()) return value.get<int>();
    if (value.is_string()) {
      try {
        return std::stoi(value.get<std::string>());
      } catch (const std::exception&) {
        return fallback;
      }
    }
  }
  return fallback;
}

std::string SlotText(const Context& ctx, const char* name) {
  const auto& answers = ctx.slots["answers"];
  if (answers.is_object() && answers.contains(name) && answers[name].is_string()) {
    return answers[name].get<std::string>();
  }
  return {};
}

std::string Quote(const std::vector<std::string>& evidence) {
  std::string out;
  for (std::size_t i = 0; i < evidence.size() && i < 2; ++i) {
    if (!out.empty()) out += "\" and \"";
    out += evidence[i];
  }
  return out.empty() ? out : "\"" + out + "\"";
}

// ---------------------------------------------------------------------------------------------------------------
// Events. The runner's text has already been read; events carry what it meant.
struct Answered {
  std::string question_id;
  std::string value;
};
struct RedFlag {
  TriageDecision decision;
};
struct CoachRequested {};
struct CoachJoinedEvent {
  std::string coach_name;
};
struct HandBackEvent {};

// States: empty types with a stable key.
struct Greeting : msm::front::state<> {
  static constexpr std::string_view kKey = "greeting";
};
struct Screening : msm::front::state<> {
  static constexpr std::string_view kKey = "screening";
};
struct Pain : msm::front::state<> {
  static constexpr std::string_view kKey = "pain";
};
struct Profile : msm::front::state<> {
  static constexpr std::string_view kKey = "profile";
};
struct SelfCheck : msm::front::state<> {
  static constexpr std::string_view kKey = "self_check";
};
struct SeeProfessional : msm::front::state<> {
  static constexpr std::string_view kKey = "see_professional";
};
struct Menu : msm::front::state<> {
  static constexpr std::string_view kKey = "menu";
};
struct QuestionMode : msm::front::state<> {
  static constexpr std::string_view kKey = "question";
};
struct WaitingForCoach : msm::front::state<> {
  static constexpr std::string_view kKey = "waiting_for_coach";
};
struct CoachActive : msm::front::state<> {
  static constexpr std::string_view kKey = "coach_active";
};

// ---------------------------------------------------------------------------------------------------------------
// Guards.
struct MoreInPhase {
  template <class Fsm, class S, class T>
  bool operator()(const Answered&, Fsm& fsm, S&, T&) const {
    return NextInPhase(*fsm.ctx) != nullptr;
  }
};
struct ChoseQuestion {
  template <class Fsm, class S, class T>
  bool operator()(const Answered& ev, Fsm&, S&, T&) const {
    return ev.value == "question";
  }
};
struct ChosePain {
  template <class Fsm, class S, class T>
  bool operator()(const Answered& ev, Fsm&, S&, T&) const {
    return ev.value == "pain";
  }
};
// The 3/10 rule: running may go on only below 3/10 and not rising. From 3 and rising after runs, a 7 or more,
// or a month without getting better, a professional should look at it.
struct PainNeedsProfessional {
  template <class Fsm, class S, class T>
  bool operator()(const Answered& ev, Fsm& fsm, S&, T&) const {
    if (NextInPhase(*fsm.ctx) != nullptr) return false;
    const Context& ctx = *fsm.ctx;
    const int score = SlotInt(ctx, "pain_score", 0);
    const bool rising = ev.value == "yes";
    return (score >= 3 && rising) || score >= 7 || SlotText(ctx, "pain_duration") == "month_plus";
  }
};
struct IsEscalationLevel {
  template <class Fsm, class S, class T>
  bool operator()(const RedFlag& ev, Fsm&, S&, T&) const {
    return RequiresEscalation(ev.decision.level);
  }
};

// ---------------------------------------------------------------------------------------------------------------
// Actions.
void Store(Context& ctx, const Answered& ev) {
  if (!ctx.slots["answers"].is_object()) ctx.slots["answers"] = json::object();
  ctx.slots["answers"][ev.question_id] = ev.value;
}

struct StoreAndAskNext {
  template <class Ev, class Fsm, class S, class T>
  void operator()(const Ev& ev, Fsm& fsm, S&, T&) const {
    Context& ctx = *fsm.ctx;
    const Question* next = NextInPhase(ctx);
    Store(ctx, ev);
    if (const Question* current = FindQuestion(ev.question_id); current && current->phase == "self_check") {
      if (ev.value == "yes") ctx.slots["self_check_ticks"] = ctx.slots.value("self_check_ticks", 0) + 1;
    }
    Ask(ctx, *next);
  }
};

struct BeginScreening {
  template <class Ev, class Fsm, class S, class T>
  void operator()(const Ev& ev, Fsm& fsm, S&, T&) const {
    Context& ctx = *fsm.ctx;
    ctx.slots["path"] = ev.value == "plan" ? "plan" : "pain";
    const std::string lead = ev.value == "plan"
                                 ? "Happy to. Before I put a plan together, I need to rule out anything serious."
                                 : "Sorry to hear that. Let's make sure it's nothing serious first.";
    Say(ctx, lead);
    AskFirstOf(ctx, "screening");
  }
};

struct FinishScreening {
  template <class Ev, class Fsm, class S, class T>
  void operator()(const Ev& ev, Fsm& fsm, S&, T&) const {
    Context& ctx = *fsm.ctx;
    Store(ctx, ev);
    AskFirstOf(ctx, "pain");
  }
};

struct FinishPain {
  template <class Ev, class Fsm, class S, class T>
  void operator()(const Ev& ev, Fsm& fsm, S&, T&) const {
    Context& ctx = *fsm.ctx;
    Store(ctx, ev);
    RaiseLevel(ctx, TriageLevel::self_care);
    const int score = SlotInt(ctx, "pain_score", 0);
    std::string lead;
    if (score < 3 && ev.value == "no") {
      lead =
          "Good news: pain below 3/10 that doesn't build up after runs usually means you can keep "
          "running, with care. Now a little about you, so the plan fits.";
    } else {
      lead = "Thanks. Ease off hard or long runs for now; I'll keep the plan gentle. Now a little about you.";
    }
    AskFirstOf(ctx, "profile", lead);
  }
};

struct AdviseProfessionalAfterPain {
  template <class Ev, class Fsm, class S, class T>
  void operator()(const Ev& ev, Fsm& fsm, S&, T&) const {
    Context& ctx = *fsm.ctx;
    Store(ctx, ev);
    RaiseLevel(ctx, TriageLevel::see_professional);
    Say(ctx,
        "With pain at this level, pain that builds after runs, or pain that hasn't eased in a month, please stop "
        "running for now and book an appointment with a physiotherapist or your doctor. That isn't an emergency, "
        "but it needs a proper look.",
        ReplyKind::see_professional);
    Ask(ctx, *FindQuestion("professional_choice"));
  }
};

struct BeginProfile {
  template <class Ev, class Fsm, class S, class T>
  void operator()(const Ev&, Fsm& fsm, S&, T&) const {
    AskFirstOf(*fsm.ctx, "profile", "Sure. A gentle plan needs a little about you first.");
  }
};

struct FinishProfile {
  template <class Ev, class Fsm, class S, class T>
  void operator()(const Ev& ev, Fsm& fsm, S&, T&) const {
    Context& ctx = *fsm.ctx;
    Store(ctx, ev);
    AskFirstOf(ctx, "self_check");
  }
};

PlanRequest PlanRequestFrom(const Context& ctx, int week) {
  PlanRequest request;
  request.runner_type = SlotText(ctx, "profile_type");
  if (request.runner_type.empty()) request.runner_type = "other";
  const auto& answers = ctx.slots["answers"];
  if (answers.is_object() && answers.contains("pain_score")) request.pain_score = SlotInt(ctx, "pain_score", 0);
  request.pain_rises_after_running = SlotText(ctx, "pain_after_running") == "yes";
  request.week = week;
  return request;
}

void HandOutPlan(Context& ctx, int week) {
  const auto messages = ctx.deps->knowledge.Plan(PlanRequestFrom(ctx, week));
  if (messages.empty()) {
    Say(ctx, "I couldn't put the plan together just now. A coach can send it to you: tap \"Talk to a coach\".",
        ReplyKind::not_sure);
    return;
  }
  for (const auto& message : messages) Say(ctx, message, ReplyKind::plan);
  ctx.slots["plan_week"] = week;
}

struct FinishSelfCheckAndHandOutPlan {
  template <class Ev, class Fsm, class S, class T>
  void operator()(const Ev& ev, Fsm& fsm, S&, T&) const {
    Context& ctx = *fsm.ctx;
    Store(ctx, ev);
    if (ev.value == "yes") ctx.slots["self_check_ticks"] = ctx.slots.value("self_check_ticks", 0) + 1;
    const int ticks = ctx.slots.value("self_check_ticks", 0);
    if (ticks >= 3) {
      Say(ctx, "You ticked " + std::to_string(ticks) +
                   " of 4 areas. That's a sign your routine needs a rethink, not just rest: the strength, "
                   "mobility and form work in the plan matters as much as the running.");
    } else {
      Say(ctx, "You ticked " + std::to_string(ticks) +
                   " of 4 areas. Your routine looks mostly sound; the plan below will help the rest.");
    }
    HandOutPlan(ctx, 1);
    Ask(ctx, *FindQuestion("menu_choice"));
  }
};

struct ResendPlan {
  template <class Ev, class Fsm, class S, class T>
  void operator()(const Ev& ev, Fsm& fsm, S&, T&) const {
    Context& ctx = *fsm.ctx;
    if (ev.value == "week2") {
      HandOutPlan(ctx, 2);
    } else if (ev.value == "plan_again") {
      HandOutPlan(ctx, ctx.slots.value("plan_week", 1));
    }
    Ask(ctx, *FindQuestion("menu_choice"));
  }
};

struct EnterQuestionMode {
  template <class Ev, class Fsm, class S, class T>
  void operator()(const Ev&, Fsm& fsm, S&, T&) const {
    Ask(*fsm.ctx, *FindQuestion("question_choice"));
  }
};

// "What you describe" plus the runner's own words that fired, so the runner sees why we are worried.
std::string WhatYouDescribe(const TriageDecision& decision) {
  return decision.evidence.empty() ? "What you describe" : "What you describe (" + Quote(decision.evidence) + ")";
}

std::string EmergencyText(const Context& ctx, const TriageDecision& decision) {
  const std::string& number = ctx.deps->settings.emergency_number;
  const std::string what = WhatYouDescribe(decision);
  return "This needs emergency care now. " + what +
         " can be a sign of a serious problem that must be treated within hours. Call emergency services (" + number +
         ") or go to the nearest emergency department now. Stop running, and don't wait for our reply. I've "
         "alerted a coach, who will see this conversation.";
}

std::string UrgentText(const Context& ctx, const TriageDecision& decision) {
  const std::string& number = ctx.deps->settings.emergency_number;
  const std::string what = WhatYouDescribe(decision);
  return "Please see a doctor today. " + what +
         " needs a medical check soon: call your doctor's surgery for a same-day appointment, or an urgent care "
         "line. Stop running until you've been seen. If you get numbness around your groin, trouble peeing or "
         "weakness in both legs, call " +
         number + " straight away. I've asked a coach to join this conversation.";
}

struct EscalateNow {
  template <class Fsm, class S, class T>
  void operator()(const RedFlag& ev, Fsm& fsm, S&, T&) const {
    Context& ctx = *fsm.ctx;
    const auto& decision = ev.decision;
    RaiseLevel(ctx, decision.level);
    if (decision.level == TriageLevel::emergency) {
      Say(ctx, EmergencyText(ctx, decision), ReplyKind::emergency);
    } else {
      Say(ctx, UrgentText(ctx, decision), ReplyKind::urgent);
    }
    ctx.escalation = EscalationRequest{decision.level, decision.flags, decision.evidence, "red_flag"};
    ctx.slots["escalated_level"] = std::string(ToString(decision.level));
    ctx.slots.erase("question");
  }
};

// Already with (or waiting for) a coach: repeat the instruction when the news is graver, and update the escalation.
struct EscalateAgain {
  template <class Fsm, class S, class T>
  void operator()(const RedFlag& ev, Fsm& fsm, S&, T&) const {
    Context& ctx = *fsm.ctx;
    const auto& decision = ev.decision;
    const auto previous = ParseTriageLevel(ctx.slots.value("escalated_level", std::string("not_pain")));
    RaiseLevel(ctx, decision.level);
    if (decision.level == TriageLevel::emergency) {
      Say(ctx, EmergencyText(ctx, decision), ReplyKind::emergency);
    } else if (decision.level == TriageLevel::urgent) {
      Say(ctx, UrgentText(ctx, decision), ReplyKind::urgent);
    } else {
      Say(ctx, "Thanks, I've added that for the coach. Please don't run until someone has looked at it.",
          ReplyKind::see_professional);
    }
    if (!previous || decision.level > *previous) {
      ctx.escalation = EscalationRequest{decision.level, decision.flags, decision.evidence, "red_flag"};
      ctx.slots["escalated_level"] = std::string(ToString(decision.level));
    }
  }
};

struct AdviseProfessional {
  template <class Fsm, class S, class T>
  void operator()(const RedFlag& ev, Fsm& fsm, S&, T&) const {
    Context& ctx = *fsm.ctx;
    RaiseLevel(ctx, TriageLevel::see_professional);
    Say(ctx,
        WhatYouDescribe(ev.decision) +
            " can mean a nerve is irritated or something needs a closer look. Please stop running for now and "
            "book an appointment with a physiotherapist or your doctor. If you notice numbness around your groin, "
            "trouble peeing or weakness in both legs, call " +
            ctx.deps->settings.emergency_number + " at once.",
        ReplyKind::see_professional);
    Ask(ctx, *FindQuestion("professional_choice"));
  }
};

struct CallCoach {
  template <class Ev, class Fsm, class S, class T>
  void operator()(const Ev&, Fsm& fsm, S&, T&) const {
    Context& ctx = *fsm.ctx;
    Say(ctx,
        "I've asked a coach to join. They'll reply right here, usually within a few hours during the day. If "
        "anything gets worse meanwhile (numbness around the groin, bladder or bowel changes, weakness in both "
        "legs), call " +
            ctx.deps->settings.emergency_number + " straight away.",
        ReplyKind::system);
    ctx.escalation = EscalationRequest{LevelOf(ctx).value_or(TriageLevel::not_pain), {}, {}, "runner_request"};
    if (!ctx.slots.contains("escalated_level")) ctx.slots["escalated_level"] = "not_pain";
    ctx.slots.erase("question");
  }
};

struct AlreadyWaiting {
  template <class Ev, class Fsm, class S, class T>
  void operator()(const Ev&, Fsm& fsm, S&, T&) const {
    Say(*fsm.ctx, "A coach has already been asked to join; they'll reply here.", ReplyKind::system);
  }
};

struct AnnounceCoach {
  template <class Fsm, class S, class T>
  void operator()(const CoachJoinedEvent& ev, Fsm& fsm, S&, T&) const {
    const std::string name = ev.coach_name.empty() ? "A coach" : "Coach " + ev.coach_name;
    Say(*fsm.ctx, name + " has joined the conversation.", ReplyKind::system);
  }
};

struct AnnounceBotBack {
  template <class Ev, class Fsm, class S, class T>
  void operator()(const Ev&, Fsm& fsm, S&, T&) const {
    Context& ctx = *fsm.ctx;
    Say(ctx, "The coach has handed you back to me, the coaching assistant.", ReplyKind::system);
    Ask(ctx, *FindQuestion("menu_choice"));
  }
};

// ---------------------------------------------------------------------------------------------------------------
struct TriageMachine_ : msm::front::state_machine_def<TriageMachine_> {
  explicit TriageMachine_(Context* context) : ctx(context) {}
  Context* ctx;
  using initial_state = Greeting;
  using no_exception_thrown = int;  // an action that throws leaves process_event; the caller saves nothing
  using no_message_queue = int;     // actions never call process_event

  // Rows with the same source and event are tried bottom-up: the unguarded fallback comes first (B3).
  struct transition_table
      : mpl::vector45<
            // greeting: back pain or a plan both start with the safety questions
            Row<Greeting, Answered, Screening, BeginScreening, none>,
            Row<Greeting, Answered, QuestionMode, EnterQuestionMode, ChoseQuestion>,
            // screening: a "no" moves on; a "yes" arrives as a RedFlag event
            Row<Screening, Answered, Pain, FinishScreening, none>,
            Row<Screening, Answered, none, StoreAndAskNext, MoreInPhase>,
            // pain questions, then the 3/10 rule
            Row<Pain, Answered, Profile, FinishPain, none>,
            Row<Pain, Answered, SeeProfessional, AdviseProfessionalAfterPain, PainNeedsProfessional>,
            Row<Pain, Answered, none, StoreAndAskNext, MoreInPhase>,
            // runner profile, goal and schedule
            Row<Profile, Answered, SelfCheck, FinishProfile, none>,
            Row<Profile, Answered, none, StoreAndAskNext, MoreInPhase>,
            // the self-check, then the plan
            Row<SelfCheck, Answered, Menu, FinishSelfCheckAndHandOutPlan, none>,
            Row<SelfCheck, Answered, none, StoreAndAskNext, MoreInPhase>,
            // see a professional: a gentle plan meanwhile, or a coach
            Row<SeeProfessional, Answered, Profile, BeginProfile, none>,
            // after the plan
            Row<Menu, Answered, none, ResendPlan, none>,
            Row<Menu, Answered, QuestionMode, EnterQuestionMode, ChoseQuestion>,
            // free questions
            Row<QuestionMode, Answered, none, EnterQuestionMode, none>,
            Row<QuestionMode, Answered, Screening, BeginScreening, ChosePain>,
            // red flags, from every state: escalate (emergency, urgent) or advise a professional
            Row<Greeting, RedFlag, SeeProfessional, AdviseProfessional, none>,
            Row<Greeting, RedFlag, WaitingForCoach, EscalateNow, IsEscalationLevel>,
            Row<Screening, RedFlag, SeeProfessional, AdviseProfessional, none>,
            Row<Screening, RedFlag, WaitingForCoach, EscalateNow, IsEscalationLevel>,
            Row<Pain, RedFlag, SeeProfessional, AdviseProfessional, none>,
            Row<Pain, RedFlag, WaitingForCoach, EscalateNow, IsEscalationLevel>,
            Row<Profile, RedFlag, SeeProfessional, AdviseProfessional, none>,
            Row<Profile, RedFlag, WaitingForCoach, EscalateNow, IsEscalationLevel>,
            Row<SelfCheck, RedFlag, SeeProfessional, AdviseProfessional, none>,
            Row<SelfCheck, RedFlag, WaitingForCoach, EscalateNow, IsEscalationLevel>,
            Row<SeeProfessional, RedFlag, SeeProfessional, AdviseProfessional, none>,
            Row<SeeProfessional, RedFlag, WaitingForCoach, EscalateNow, IsEscalationLevel>,
            Row<Menu, RedFlag, SeeProfessional, AdviseProfessional, none>,
            Row<Menu, RedFlag, WaitingForCoach, EscalateNow, IsEscalationLevel>,
            Row<QuestionMode, RedFlag, SeeProfessional, AdviseProfessional, none>,
            Row<QuestionMode, RedFlag, WaitingForCoach, EscalateNow, IsEscalationLevel>,
            Row<WaitingForCoach, RedFlag, none, EscalateAgain, none>,
            Row<CoachActive, RedFlag, none, EscalateAgain, none>,
            // a human, on request, from every state
            Row<Greeting, CoachRequested, WaitingForCoach, CallCoach, none>,
            Row<Screening, CoachRequested, WaitingForCoach, CallCoach, none>,
            Row<Pain, CoachRequested, WaitingForCoach, CallCoach, none>,
            Row<Profile, CoachRequested, WaitingForCoach, CallCoach, none>,
            Row<SelfCheck, CoachRequested, WaitingForCoach, CallCoach, none>,
            Row<SeeProfessional, CoachRequested, WaitingForCoach, CallCoach, none>,
            Row<Menu, CoachRequested, WaitingForCoach, CallCoach, none>,
            Row<QuestionMode, CoachRequested, WaitingForCoach, CallCoach, none>,
            Row<WaitingForCoach, CoachRequested, none, AlreadyWaiting, none>,
            // the coach takes over and hands back
            Row<WaitingForCoach, CoachJoinedEvent, CoachActive, AnnounceCoach, none>,
            Row<CoachActive, HandBackEvent, Menu, AnnounceBotBack, none>> {};

  // An event the current state has no row for changes nothing; the caller notices through the unchanged key.
  template <class Fsm, class Event>
  void no_transition(const Event&, Fsm&, int) {
    ctx->slots["unhandled"] = true;
  }
};

using TriageMachine = msm::back::state_machine<TriageMachine_>;

template <class Fsm, class State, class F>
void VisitState(msm::wrap<State>, F& f) {
  f(State::kKey, msm::back::get_state_id<typename Fsm::stt, State>::value);
}

template <class Fsm, class F>
void ForEachState(F f) {
  using AllStates = typename msm::back::generate_state_set<typename Fsm::stt>::type;
  mpl::for_each<AllStates, msm::wrap<mpl::placeholders::_1>>([&](auto wrapped) { VisitState<Fsm>(wrapped, f); });
}

std::string KeyOf(int id) {
  std::string out = "greeting";
  ForEachState<TriageMachine>([&](std::string_view key, int state_id) {
    if (state_id == id) out = std::string(key);
  });
  return out;
}

// serialize() takes any "archive"; its only int[N] operand is the active-state array (boost-msm.md, B1).
struct ActiveStateWriter {
  int id;
  template <class T>
  ActiveStateWriter& operator&(T&) {
    return *this;
  }
  template <std::size_t N>
  ActiveStateWriter& operator&(int (&ids)[N]) {
    std::fill_n(ids, N, id);
    return *this;
  }
};

bool RestoreActiveState(TriageMachine& machine, std::string_view key) {
  std::optional<int> id;
  ForEachState<TriageMachine>([&](std::string_view known, int state_id) {
    if (known == key) id = state_id;
  });
  if (!id) return false;
  ActiveStateWriter writer{*id};
  machine.serialize(writer, 0u);
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
struct TriageConversation::Machine {
  explicit Machine(const DialogDependencies& dependencies) : deps(dependencies), fsm(&context) { context.deps = &deps; }
  DialogDependencies deps;
  Context context;
  TriageMachine fsm;
  std::string state_key = "greeting";
  bool was_reset = false;
  bool reset_notice_pending = false;

  void SyncKey() { state_key = KeyOf(fsm.current_state()[0]); }

  TurnResult TakeResult() {
    TurnResult result;
    result.replies = std::move(context.replies);
    result.escalation = std::move(context.escalation);
    context.replies.clear();
    context.escalation.reset();
    context.slots.erase("unhandled");
    SyncKey();
    return result;
  }

  template <class Event>
  bool Process(const Event& event) {
    context.slots.erase("unhandled");
    fsm.process_event(event);
    const bool handled = !context.slots.contains("unhandled");
    SyncKey();
    return handled;
  }

  void Start() {
    context.slots = json::object();
    fsm.start();  // the initial state has no entry action: the greeting is said by Greet()
    SyncKey();
    context.slots["question"] = "greeting_choice";
  }

  void SayGreeting() {
    Say(context,
        "Hi! I'm the coaching assistant of our running practice. I can help when your back hurts on the run, "
        "put together a gentle recovery plan, or answer your questions. I'm not a doctor and this isn't medical "
        "advice: if something feels seriously wrong, call " +
            deps.settings.emergency_number + ".");
    Ask(context, *FindQuestion("greeting_choice"));
  }

  void ReAsk(const std::string& lead) {
    const Question* question = CurrentQuestion(context);
    if (question == nullptr) return;
    Ask(context, *question, lead);
  }
};

TriageConversation::TriageConversation(const DialogDependencies& deps) : machine_(std::make_unique<Machine>(deps)) {
  machine_->Start();
}

TriageConversation::TriageConversation(const DialogDependencies& deps, ConversationSnapshot snapshot)
    : machine_(std::make_unique<Machine>(deps)) {
  if (!snapshot.slots.is_object() || !RestoreActiveState(machine_->fsm, snapshot.state_key)) {
    // A key from an older build (or damaged slots): start afresh, and say so on the next turn.
    machine_->Start();
    machine_->was_reset = true;
    machine_->reset_notice_pending = true;
    return;
  }
  machine_->context.slots = std::move(snapshot.slots);
  machine_->SyncKey();
}

TriageConversation::TriageConversation(TriageConversation&&) noexcept = default;
TriageConversation& TriageConversation::operator=(TriageConversation&&) noexcept = default;
TriageConversation::~TriageConversation() = default;

TurnResult TriageConversation::Greet() {
  machine_->SayGreeting();
  return machine_->TakeResult();
}

TurnResult TriageConversation::Restart() {
  machine_->Start();
  Say(machine_->context, "Let's start again.", ReplyKind::system);
  machine_->SayGreeting();
  return machine_->TakeResult();
}

TurnResult TriageConversation::HandleMessage(std::string_view raw_text) {
  Machine& m = *machine_;
  Context& ctx = m.context;
  const CleanText clean = CleanRunnerText(raw_text);
  const std::string& text = clean.text;

  // 1. Safety first: every message, in every state, passes the red-flag detector before anything else.
  const TriageDecision decision = m.deps.detector.Assess(text);
  if (decision.level > TriageLevel::not_pain) RaiseLevel(ctx, std::max(decision.level, TriageLevel::self_care));
  auto finish = [&]() {
    TurnResult result = m.TakeResult();
    result.decision = decision;
    return result;
  };

  if (m.reset_notice_pending) {
    m.reset_notice_pending = false;
    Say(ctx, "Sorry, I had to restart our conversation after an update on our side.", ReplyKind::system);
    if (decision.level >= TriageLevel::see_professional) {
      m.Process(RedFlag{decision});
      return finish();
    }
    m.SayGreeting();
    return finish();
  }

  const bool with_coach = m.state_key == CoachActive::kKey;
  const bool waiting = m.state_key == WaitingForCoach::kKey;
  // A see-a-professional flag already acted on is not repeated at every message.
  const bool act_on_flag = RequiresEscalation(decision.level) ||
                           (decision.level == TriageLevel::see_professional && !with_coach && !waiting &&
                            m.state_key != SeeProfessional::kKey && !ctx.slots.value("professional_advised", false));
  if (act_on_flag) {
    if (decision.level == TriageLevel::see_professional) ctx.slots["professional_advised"] = true;
    m.Process(RedFlag{decision});
    return finish();
  }

  // 2. A coach is talking: the bot stays quiet, the message is for the coach.
  if (with_coach) return finish();

  if (text.empty()) {
    Say(ctx, clean.had_invalid_utf8 ? "I couldn't read that message: some characters came through garbled."
                                    : "I didn't get any text there.");
    m.ReAsk("Could you try again?");
    return finish();
  }
  if (clean.had_invalid_utf8) {
    Say(ctx, "Some characters in that message came through garbled, so I may have missed part of it.");
  }

  // 3. Commands that work anywhere.
  const RunnerText runner(text);
  if (IsRestartCommand(runner) && !waiting) {
    TurnResult result = Restart();
    result.decision = decision;
    return result;
  }
  if (IsCoachRequest(runner)) {
    m.Process(CoachRequested{});
    return finish();
  }
  if (waiting) {
    Say(ctx, "Thanks, I've added that for the coach, who will reply here.", ReplyKind::system);
    return finish();
  }

  // 4. An answer to the question the conversation is on.
  const Question* question = CurrentQuestion(ctx);
  if (question != nullptr) {
    if (auto value = ReadAnswer(*question, runner)) {
      if (*value == "restart") {
        TurnResult result = Restart();
        result.decision = decision;
        return result;
      }
      if (*value == "coach") {
        m.Process(CoachRequested{});
        return finish();
      }
      // A screening "yes" is a red flag in the runner's own words: act on it like one.
      for (const auto& outcome : question->red_flags) {
        if (outcome.value == *value) {
          TriageDecision screening{outcome.level, {outcome.flag}, {question->text.substr(0, 80) + "... " + *value}, {}};
          RaiseLevel(ctx, outcome.level);
          if (outcome.level == TriageLevel::see_professional) ctx.slots["professional_advised"] = true;
          m.Process(RedFlag{screening});
          TurnResult result = m.TakeResult();
          result.decision = decision.level >= outcome.level ? decision : screening;
          return result;
        }
      }
      if (m.Process(Answered{question->id, *value})) return finish();
    }
  }

  // 5. A free question, in any state: answer it, then go back to where we were.
  const bool question_mode = m.state_key == QuestionMode::kKey;
  if (question_mode || LooksLikeQuestion(runner)) {
    if (auto answer = m.deps.knowledge.Answer(text)) {
      Say(ctx, answer->text, ReplyKind::answer);
      if (question_mode) {
        m.ReAsk("Anything else?");
      } else {
        m.ReAsk("Back to where we were:");
      }
      return finish();
    }
    Say(ctx,
        "I'm not sure I have a good answer to that, and I'd rather not guess. A coach can answer it: tap \"Talk "
        "to a coach\" if you'd like one to join.",
        ReplyKind::not_sure, {{"Talk to a coach", "coach"}});
    m.ReAsk(question_mode ? "Or ask me something else." : "Meanwhile:");
    TurnResult result = finish();
    result.unanswered_question = text;
    return result;
  }

  // 6. Not understood: say so and ask again, with the buttons.
  Say(ctx, "Sorry, I didn't quite get that.");
  m.ReAsk("");
  return finish();
}

TurnResult TriageConversation::CoachJoined(std::string_view coach_name) {
  if (machine_->state_key != WaitingForCoach::kKey) {
    // A coach may take over any conversation: route through the waiting state so the rows stay the single truth.
    machine_->Process(CoachRequested{});
    machine_->context.replies.clear();
    machine_->context.escalation.reset();
  }
  machine_->Process(CoachJoinedEvent{std::string(coach_name)});
  return machine_->TakeResult();
}

TurnResult TriageConversation::HandBack() {
  machine_->Process(HandBackEvent{});
  return machine_->TakeResult();
}

ConversationSnapshot TriageConversation::Snapshot() const& {
  json slots = machine_->context.slots;
  slots.erase("unhandled");
  return ConversationSnapshot{machine_->state_key, std::move(slots)};
}

ConversationSnapshot TriageConversation::Snapshot() && {
  json slots = std::move(machine_->context.slots);
  slots.erase("unhandled");
  return ConversationSnapshot{std::move(machine_->state_key), std::move(slots)};
}

const std::string& TriageConversation::StateKey() const {
  return machine_->state_key;
}

ConversationStatus TriageConversation::Status() const {
  if (machine_->state_key == WaitingForCoach::kKey) return ConversationStatus::waiting_for_coach;
  if (machine_->state_key == CoachActive::kKey) return ConversationStatus::coach;
  return ConversationStatus::bot;
}

std::optional<TriageLevel> TriageConversation::Level() const {
  return LevelOf(machine_->context);
}

bool TriageConversation::WasReset() const {
  return machine_->was_reset;
}

}  // namespace coach::dialog
