#include "dialog/question_catalog.h"

#include <algorithm>
#include <cctype>

#include <re2/re2.h>

#include "dialog/text_input.h"

namespace coach::dialog {
namespace {

std::vector<QuickReply> YesNo() {
  return {{"Yes", "yes"}, {"No", "no"}};
}

std::vector<Question> BuildCatalogue() {
  std::vector<Question> q;
  // --- phase "greeting" ---
  q.push_back({"greeting_choice",
               "greeting",
               "What brings you here today?",
               {{"My back hurts when I run", "pain"},
                {"I want a plan", "plan"},
                {"I have a question", "question"},
                {"Talk to a coach", "coach"}},
               AnswerType::choice,
               {},
               {{"pain", "hurt", "hurts", "pain", "painful", "sore", "ache", "aching", "achy", "stiff", "back"},
                {"plan", "plan", "program", "programme", "schedule", "routine"},
                {"question", "question", "ask"}}});
  // --- phase "screening": gravest first; one yes is enough to act ---
  q.push_back({"screen_saddle",
               "screening",
               "First, a few safety questions, one at a time. Do you have any numbness, tingling or an odd feeling "
               "around your groin, buttocks or inner thighs, for example when you wipe after the toilet?",
               YesNo(),
               AnswerType::yes_no,
               {{"yes", TriageLevel::emergency, "saddle_numbness"}},
               {}});
  q.push_back({"screen_bladder_bowel",
               "screening",
               "Any new trouble peeing (a weak stream, not being able to go, not feeling when your bladder is full), "
               "or any accidents with your bladder or bowels?",
               YesNo(),
               AnswerType::yes_no,
               {{"yes", TriageLevel::emergency, "bladder_bowel_change"}},
               {}});
  q.push_back({"screen_both_legs",
               "screening",
               "Do you have pain, numbness, tingling or weakness in BOTH legs?",
               YesNo(),
               AnswerType::yes_no,
               {{"yes", TriageLevel::emergency, "bilateral_leg_symptoms"}},
               {}});
  q.push_back({"screen_weakness",
               "screening",
               "Is either leg getting weaker, or has your walking changed (stumbling, a foot that drags or slaps)?",
               {{"Yes, and it's getting worse fast", "fast"}, {"Yes, a little", "some"}, {"No", "no"}},
               AnswerType::yes_no,
               {{"fast", TriageLevel::emergency, "progressive_weakness"},
                {"some", TriageLevel::urgent, "leg_weakness"},
                {"yes", TriageLevel::urgent, "leg_weakness"}},
               {{"fast", "fast", "quickly", "worse", "worsening", "rapidly"}}});
  q.push_back({"screen_trauma",
               "screening",
               "Did the pain start after an accident, a fall or a hard knock?",
               {{"Yes, a serious accident or fall", "major"},
                {"A minor fall, and I have weak bones or take steroids", "fragile"},
                {"No", "no"}},
               AnswerType::yes_no,
               {{"major", TriageLevel::emergency, "major_trauma"},
                {"fragile", TriageLevel::urgent, "fragility_trauma"},
                {"yes", TriageLevel::emergency, "major_trauma"}},
               {{"fragile", "osteoporosis", "steroids", "minor", "small", "weak bones"},
                {"major", "car", "crash", "serious", "height", "accident"}}});
  q.push_back({"screen_chest",
               "screening",
               "Do you have any chest pain, or pain between your shoulder blades, together with the back pain?",
               YesNo(),
               AnswerType::yes_no,
               {{"yes", TriageLevel::emergency, "chest_pain"}},
               {}});
  q.push_back({"screen_systemic",
               "screening",
               "Do you have a fever or chills, have you ever had cancer, or have you lost weight recently without "
               "trying?",
               YesNo(),
               AnswerType::yes_no,
               {{"yes", TriageLevel::urgent, "systemic_signs"}},
               {}});
  q.push_back({"screen_night",
               "screening",
               "Is the pain bad at night, and does it stay bad whatever position you lie in?",
               YesNo(),
               AnswerType::yes_no,
               {{"yes", TriageLevel::urgent, "night_pain"}},
               {}});
  q.push_back({"screen_sciatica",
               "screening",
               "Last safety question: does pain, numbness or tingling shoot down one leg below the knee, or get "
               "clearly worse when you sit?",
               YesNo(),
               AnswerType::yes_no,
               {{"yes", TriageLevel::see_professional, "sciatica_one_leg"}},
               {}});
  // --- phase "pain" ---
  q.push_back({"pain_where",
               "pain",
               "Thanks, that all sounds reassuring. Where exactly is the pain?",
               {{"Low back, in the middle", "low_back_middle"},
                {"One side of the low back", "low_back_side"},
                {"Low back and buttock", "low_back_buttock"},
                {"Upper or mid back", "upper_back"}},
               AnswerType::choice_or_text,
               {},
               {}});
  q.push_back({"pain_duration",
               "pain",
               "How long have you had it?",
               {{"A few days", "days"}, {"1 to 4 weeks", "weeks"}, {"More than a month", "month_plus"}},
               AnswerType::choice,
               {},
               {{"days", "day", "days", "yesterday", "today", "since", "weekend"},
                {"weeks", "week", "weeks", "fortnight"},
                {"month_plus", "month", "months", "year", "years", "ages"}}});
  q.push_back({"pain_score",
               "pain",
               "On a scale from 0 (nothing) to 10 (the worst you can imagine), how bad is it when you run?",
               {{"0-2", "2"}, {"3", "3"}, {"4-6", "5"}, {"7-10", "8"}},
               AnswerType::pain_score,
               {},
               {}});
  q.push_back({"pain_after_running",
               "pain",
               "Does it get worse after a run, later that day or the next morning?",
               YesNo(),
               AnswerType::yes_no,
               {},
               {}});
  // --- phase "profile" ---
  q.push_back(
      {"profile_type",
       "profile",
       "Which of these sounds most like you?",
       {{"New to running", "beginner"},
        {"Distance runner", "distance"},
        {"Older, or coming back from injury", "older_returning"},
        {"None of these", "other"}},
       AnswerType::choice,
       {},
       {{"beginner", "new", "beginner", "started", "starting", "couch", "first"},
        {"distance", "distance", "marathon", "half", "ultra", "long", "miles", "km"},
        {"older_returning", "older", "returning", "comeback", "injury", "injured", "back after", "50", "60", "70"},
        {"other", "none", "neither", "other", "casual"}}});
  q.push_back({"profile_goal",
               "profile",
               "What's your goal right now?",
               {{"Run without pain", "pain_free"}, {"A race", "race"}, {"General fitness", "fitness"}},
               AnswerType::choice_or_text,
               {},
               {{"race", "race", "marathon", "10k", "5k", "half", "event"}, {"fitness", "fitness", "fit", "health"}}});
  q.push_back({"profile_schedule",
               "profile",
               "How many days a week do you usually run?",
               {{"1-2 days", "2"}, {"3-4 days", "4"}, {"5 or more", "5"}},
               AnswerType::choice_or_text,
               {},
               {}});
  // --- phase "self_check": a tick for each area where the answer is yes ---
  q.push_back({"check_form",
               "self_check",
               "Quick self-check, four yes/no questions. Posture and form: do you slouch or lean forward when "
               "tired, take long reaching strides, or has nobody ever looked at how you run?",
               YesNo(),
               AnswerType::yes_no,
               {},
               {}});
  q.push_back({"check_core",
               "self_check",
               "Core and strength: do you skip core and glute exercises most weeks?",
               YesNo(),
               AnswerType::yes_no,
               {},
               {}});
  q.push_back({"check_gear",
               "self_check",
               "Gear and mileage: are your shoes past roughly 500-800 km (300-500 miles), or have you added more "
               "than about 10% to your weekly distance lately?",
               YesNo(),
               AnswerType::yes_no,
               {},
               {}});
  q.push_back({"check_patterns",
               "self_check",
               "Pain patterns: does the pain show up at the same point in your runs, or do you feel stiff after "
               "sitting for a while?",
               YesNo(),
               AnswerType::yes_no,
               {},
               {}});
  // --- hub states ---
  q.push_back({"menu_choice",
               "menu",
               "What would you like next?",
               {{"Send the plan again", "plan_again"},
                {"Show week 2", "week2"},
                {"I have a question", "question"},
                {"Talk to a coach", "coach"},
                {"Start over", "restart"}},
               AnswerType::choice,
               {},
               {{"plan_again", "again", "resend", "repeat", "plan"}, {"week2", "week 2", "next week", "week two"}}});
  q.push_back({"question_choice",
               "question",
               "Ask me anything about running with back pain.",
               {{"My back hurts when I run", "pain"}, {"Talk to a coach", "coach"}, {"Start over", "restart"}},
               AnswerType::choice,
               {},
               {}});
  q.push_back({"professional_choice",
               "see_professional",
               "What would you like to do?",
               {{"Talk to a coach", "coach"}, {"A gentle plan meanwhile", "gentle_plan"}, {"Start over", "restart"}},
               AnswerType::choice,
               {},
               {{"gentle_plan", "plan", "gentle", "meanwhile"}}});
  return q;
}

// Lower-cased words of the text (letters, digits and apostrophes), so "No!!" and "no." read as "no".
std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> words;
  std::string current;
  for (char c : FoldForMatching(text)) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '\'' || u >= 0x80) {
      current += c;
    } else if (!current.empty()) {
      words.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) words.push_back(std::move(current));
  return words;
}

std::string Joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& word : words) {
    if (!out.empty()) out += ' ';
    out += word;
  }
  return out;
}

std::string Normalized(std::string_view text) {
  return Joined(Words(text));
}

// Both arguments already normalized: the phrase as whole words inside the text. Runs on every message, so it
// neither allocates nor normalizes again.
bool ContainsPhrase(std::string_view normalized_text, std::string_view normalized_phrase) {
  if (normalized_phrase.empty()) return false;
  for (auto at = normalized_text.find(normalized_phrase); at != std::string_view::npos;
       at = normalized_text.find(normalized_phrase, at + 1)) {
    const auto end = at + normalized_phrase.size();
    const bool starts_word = at == 0 || normalized_text[at - 1] == ' ';
    const bool ends_word = end == normalized_text.size() || normalized_text[end] == ' ';
    if (starts_word && ends_word) return true;
  }
  return false;
}

std::vector<std::string> NormalizedAll(const std::vector<std::string>& phrases) {
  std::vector<std::string> out;
  out.reserve(phrases.size());
  for (const auto& phrase : phrases) out.push_back(Normalized(phrase));
  return out;
}

std::optional<bool> ReadYesNo(const std::string& normalized) {
  static const std::vector<std::string> kYes = NormalizedAll(
      {"yes",  "y",      "yeah",   "yep",        "yup",        "ya",        "sure",    "correct",  "true", "si",
       "sí",   "ja",     "haan",   "han",        "ha",         "yess",      "yea",     "aye",      "ok",   "okay",
       "i do", "i have", "indeed", "definitely", "absolutely", "afraid so", "it does", "they are", "i am"});
  static const std::vector<std::string> kNo = NormalizedAll({"no",
                                                             "n",
                                                             "nope",
                                                             "nah",
                                                             "not really",
                                                             "none",
                                                             "never",
                                                             "nothing",
                                                             "nein",
                                                             "nahi",
                                                             "nahin",
                                                             "na",
                                                             "no i don't",
                                                             "i don't",
                                                             "i dont",
                                                             "dont think so",
                                                             "not at all",
                                                             "negative",
                                                             "doesn't",
                                                             "it doesn't",
                                                             "they aren't",
                                                             "i haven't",
                                                             "nothing like that"});
  if (normalized.empty()) return std::nullopt;
  // The first word decides ("no, nothing like that"; "yes a little"): runners answer first, then explain.
  auto starts_with = [&](const std::vector<std::string>& list) {
    for (const auto& phrase : list) {
      if (normalized.compare(0, phrase.size(), phrase) == 0 &&
          (normalized.size() == phrase.size() || normalized[phrase.size()] == ' ')) {
        return true;
      }
    }
    return false;
  };
  if (starts_with(kNo)) return false;
  if (starts_with(kYes)) return true;
  return std::nullopt;
}

}  // namespace

const std::vector<Question>& Questions() {
  static const std::vector<Question> catalogue = [] {
    auto questions = BuildCatalogue();
    // Keywords are matched against normalized text on every message: normalize them once, here.
    for (auto& question : questions) {
      for (auto& group : question.keywords) {
        for (std::size_t i = 1; i < group.size(); ++i) group[i] = Normalized(group[i]);
      }
      for (const auto& option : question.options) {
        question.normalized_options.emplace_back(Normalized(option.value), Normalized(option.label));
      }
    }
    return questions;
  }();
  return catalogue;
}

const Question* FindQuestion(std::string_view id) {
  for (const auto& question : Questions()) {
    if (question.id == id) return &question;
  }
  return nullptr;
}

std::vector<const Question*> QuestionsOf(std::string_view phase) {
  std::vector<const Question*> out;
  for (const auto& question : Questions()) {
    if (question.phase == phase) out.push_back(&question);
  }
  return out;
}

RunnerText::RunnerText(std::string_view raw) : text(raw), words(Words(raw)), normalized(Joined(words)) {}

std::optional<std::string> ReadAnswer(const Question& question, std::string_view text) {
  return ReadAnswer(question, RunnerText(text));
}

std::optional<std::string> ReadAnswer(const Question& question, const RunnerText& runner) {
  const std::string& normalized = runner.normalized;
  if (normalized.empty()) return std::nullopt;
  // An exact quick reply, by value or by label, always counts.
  const bool prepared = question.normalized_options.size() == question.options.size();
  for (std::size_t index = 0; index < question.options.size(); ++index) {
    const auto& option = question.options[index];
    const bool matches = prepared ? normalized == question.normalized_options[index].first ||
                                        normalized == question.normalized_options[index].second
                                  : normalized == Normalized(option.value) || normalized == Normalized(option.label);
    if (matches) return option.value;
  }
  if (question.type == AnswerType::pain_score) {
    static const RE2 kScore(R"((?:^|[^0-9])(10|[0-9])(?:\s*(?:/|out of|of)\s*10)?(?:[^0-9]|$))");
    std::string score;
    if (RE2::PartialMatch(FoldForMatching(runner.text), kScore, &score)) return score;
    return std::nullopt;
  }
  // Typed keywords for an option ("marathon" picks the distance runner).
  const auto keyword_option = [&]() -> std::optional<std::string> {
    for (const auto& group : question.keywords) {
      for (std::size_t i = 1; i < group.size(); ++i) {
        if (ContainsPhrase(normalized, group[i])) return group.front();
      }
    }
    return std::nullopt;
  };
  if (question.type == AnswerType::yes_no) {
    // "No" wins before any keyword, so "no, it isn't getting worse" is a no.
    const auto yes_no = ReadYesNo(normalized);
    if (yes_no && !*yes_no) return std::string("no");
    if (auto graded = keyword_option()) return graded;
    if (yes_no) return std::string("yes");
    return std::nullopt;
  }
  if (auto option = keyword_option()) return option;
  if (question.type == AnswerType::choice_or_text) {
    if (LooksLikeQuestion(runner)) return std::nullopt;
    if (question.id == "profile_schedule") {
      for (const auto& word : runner.words) {
        if (word.size() <= 2 && std::all_of(word.begin(), word.end(), [](char c) { return std::isdigit(c); })) {
          return word;
        }
      }
      return std::nullopt;
    }
    return std::string("text:") + runner.text.substr(0, 200);
  }
  return std::nullopt;
}

bool LooksLikeQuestion(std::string_view text) {
  return LooksLikeQuestion(RunnerText(text));
}

bool LooksLikeQuestion(const RunnerText& text) {
  const auto& words = text.words;
  if (words.empty()) return false;
  if (text.text.find('?') != std::string::npos) return true;
  static const std::vector<std::string> kStarters = {"what",  "whats", "what's",  "how",   "why",     "when",  "where",
                                                     "which", "who",   "can",     "could", "should",  "shall", "is",
                                                     "are",   "do",    "does",    "did",   "will",    "would", "may",
                                                     "might", "tell",  "explain", "any",   "anything"};
  return std::find(kStarters.begin(), kStarters.end(), words.front()) != kStarters.end() && words.size() >= 3;
}

bool IsRestartCommand(std::string_view text) {
  return IsRestartCommand(RunnerText(text));
}

bool IsRestartCommand(const RunnerText& text) {
  const std::string& normalized = text.normalized;
  static const std::vector<std::string> kCommands = {"restart", "start over",  "start again",     "reset",
                                                     "start",   "begin again", "new conversation"};
  if (std::find(kCommands.begin(), kCommands.end(), normalized) != kCommands.end()) return true;
  const std::string folded = FoldForMatching(text.text);
  return folded == "/start" || folded == "/restart";
}

bool IsCoachRequest(std::string_view text) {
  return IsCoachRequest(RunnerText(text));
}

bool IsCoachRequest(const RunnerText& text) {
  const std::string& normalized = text.normalized;
  static const std::vector<std::string> kPhrases = {
      "coach",           "talk to a coach",  "speak to a coach", "real person", "a human", "human",
      "talk to a human", "speak to someone", "talk to someone",  "real coach",  "agent",   "operator"};
  for (const auto& phrase : kPhrases) {
    if (normalized == phrase) return true;
  }
  return ContainsPhrase(normalized, "talk to a coach") || ContainsPhrase(normalized, "speak to a coach") ||
         ContainsPhrase(normalized, "talk to a human") || ContainsPhrase(normalized, "real person") ||
         ContainsPhrase(normalized, "speak to a human") || ContainsPhrase(normalized, "talk to a real");
}

}  // namespace coach::dialog
