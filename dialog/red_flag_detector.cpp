#include "dialog/red_flag_detector.h"

#include <re2/filtered_re2.h>
#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "dialog/text_input.h"

namespace coach::embedded {
extern const char* const kRedFlagRulesJson;
extern const char* const kEmergencyWordingModel;
}  // namespace coach::embedded

namespace coach::dialog {
namespace {

using Json = nlohmann::json;

struct Span {
  std::size_t begin = 0;
  std::size_t end = 0;
};

// Combined alternations of long word lists need more than RE2's default 8 MiB budget.
constexpr int64_t kRegexMemoryBudget = 64 << 20;
constexpr int kMaxTermDepth = 8;
constexpr const char* kEvidenceJoiner = " ... ";
constexpr const char* kWordingModelFlag = "emergency_wording_model";
constexpr std::size_t kWordingModelMinWords = 6;

RE2::Options MatchingOptions() {
  RE2::Options options;
  options.set_case_sensitive(false);
  options.set_log_errors(false);
  options.set_max_mem(kRegexMemoryBudget);
  return options;
}

std::unique_ptr<RE2> CompileOrThrow(const std::string& pattern, const std::string& where) {
  auto regex = std::make_unique<RE2>(pattern, MatchingOptions());
  if (!regex->ok()) {
    throw std::invalid_argument("red-flag rules: " + where + ": RE2 rejects the pattern: " + regex->error());
  }
  return regex;
}

// Replaces every {NAME} with the term's pattern (terms may use other terms); {0,5} repetitions are left alone.
std::string ExpandTerms(const std::string& pattern, const std::map<std::string, std::string>& terms,
                        const std::string& where, int depth = 0) {
  if (depth > kMaxTermDepth) throw std::invalid_argument("red-flag rules: " + where + ": terms nest too deeply");
  std::string out;
  for (std::size_t pos = 0; pos < pattern.size();) {
    if (pattern[pos] == '{') {
      const std::size_t close = pattern.find('}', pos);
      if (close != std::string::npos) {
        const std::string name = pattern.substr(pos + 1, close - pos - 1);
        const bool is_term_name = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
          return (c >= 'A' && c <= 'Z') || c == '_';
        });
        if (is_term_name) {
          const auto term = terms.find(name);
          if (term == terms.end()) {
            throw std::invalid_argument("red-flag rules: " + where + ": unknown term {" + name + "}");
          }
          out += "(?:" + ExpandTerms(term->second, terms, where + " (term " + name + ")", depth + 1) + ")";
          pos = close + 1;
          continue;
        }
      }
    }
    out += pattern[pos++];
  }
  return out;
}

const Json& Require(const Json& object, const char* key, const std::string& where) {
  if (!object.is_object() || !object.contains(key)) {
    throw std::invalid_argument("red-flag rules: " + where + ": missing \"" + key + "\"");
  }
  return object.at(key);
}

std::string RequireString(const Json& object, const char* key, const std::string& where) {
  const Json& value = Require(object, key, where);
  if (!value.is_string() || value.get<std::string>().empty()) {
    throw std::invalid_argument("red-flag rules: " + where + ": \"" + key + "\" must be a non-empty string");
  }
  return value.get<std::string>();
}

int RequirePositiveInt(const Json& object, const char* key, const std::string& where) {
  const Json& value = Require(object, key, where);
  if (!value.is_number_integer() || value.get<int>() < 1) {
    throw std::invalid_argument("red-flag rules: " + where + ": \"" + key + "\" must be a positive integer");
  }
  return value.get<int>();
}

// A pattern list is a string or an array of strings; either way one alternation.
std::string JoinAlternatives(const Json& patterns, const std::string& where) {
  if (patterns.is_string()) return patterns.get<std::string>();
  if (!patterns.is_array() || patterns.empty()) {
    throw std::invalid_argument("red-flag rules: " + where + ": expected a pattern or a non-empty list of patterns");
  }
  std::string joined;
  for (const auto& pattern : patterns) {
    if (!pattern.is_string() || pattern.get<std::string>().empty()) {
      throw std::invalid_argument("red-flag rules: " + where + ": every pattern must be a non-empty string");
    }
    joined += (joined.empty() ? "(?:" : "|(?:") + pattern.get<std::string>() + ")";
  }
  return joined;
}

bool IsSpace(char c) {
  return c == ' ';
}

// The start of the last `words` words of text[begin, end).
std::size_t LastWordsBegin(const std::string& text, std::size_t begin, std::size_t end, int words) {
  std::size_t pos = end;
  while (pos > begin && IsSpace(text[pos - 1])) --pos;
  for (int seen = 0; pos > begin; --pos) {
    if (IsSpace(text[pos - 1]) && !IsSpace(text[pos])) {
      if (++seen == words) break;
    }
  }
  return pos;
}

// The end of the first `words` words of text[begin, end).
std::size_t FirstWordsEnd(const std::string& text, std::size_t begin, std::size_t end, int words) {
  std::size_t pos = begin;
  while (pos < end && IsSpace(text[pos])) ++pos;
  for (int seen = 0; pos < end; ++pos) {
    if (IsSpace(text[pos]) && pos > begin && !IsSpace(text[pos - 1])) {
      if (++seen == words) break;
    }
  }
  return pos;
}

/// The message as the rules see it, with a map back to the runner's own words for the evidence.
struct Message {
  std::string original;                   ///< valid UTF-8
  std::string text;                       ///< lower case, no apostrophes, single spaces
  std::vector<std::size_t> origin_begin;  ///< per byte of `text`: where it came from in `original`
  std::vector<std::size_t> origin_end;
  std::vector<Span> clauses;
  std::vector<bool> general_question;  ///< per clause: a question about running in general, not about the runner

  std::string Evidence(Span span) const {
    if (span.begin >= span.end) return {};
    return original.substr(origin_begin[span.begin], origin_end[span.end - 1] - origin_begin[span.begin]);
  }
  std::string_view View(Span span) const { return std::string_view(text).substr(span.begin, span.end - span.begin); }
};

Message Normalize(std::string_view raw) {
  Message message;
  message.original = ReplaceInvalidUtf8(raw);  // evidence is written as JSON: it must be valid UTF-8
  const std::string& in = message.original;
  message.text.reserve(in.size());
  const auto emit = [&](char c, std::size_t begin, std::size_t end) {
    if (c == ' ' && (message.text.empty() || message.text.back() == ' ')) return;
    message.text += c;
    message.origin_begin.push_back(begin);
    message.origin_end.push_back(end);
  };
  const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  for (std::size_t pos = 0; pos < in.size(); ++pos) {
    const auto c = static_cast<unsigned char>(in[pos]);
    if (c == 0xE2 && pos + 2 < in.size() && static_cast<unsigned char>(in[pos + 1]) == 0x80) {
      const auto last = static_cast<unsigned char>(in[pos + 2]);
      if (last == 0x98 || last == 0x99) {  // curly apostrophes vanish like straight ones: "can’t" -> "cant"
        pos += 2;
        continue;
      }
      if (last == 0x9C || last == 0x9D) {
        emit('"', pos, pos + 3);
        pos += 2;
        continue;
      }
    }
    if (c == '\'' || c == '`') continue;
    if (c < 0x20 || c == 0x7F) {
      emit(' ', pos, pos + 1);
    } else if (c == '-' || c == '_') {
      // "pins-and-needles" reads as words, while "6-7/10" keeps its dash.
      const bool between_digits = pos > 0 && pos + 1 < in.size() && is_digit(in[pos - 1]) && is_digit(in[pos + 1]);
      emit(between_digits ? '-' : ' ', pos, pos + 1);
    } else if (c >= 'A' && c <= 'Z') {
      emit(static_cast<char>(c - 'A' + 'a'), pos, pos + 1);
    } else {
      emit(static_cast<char>(c), pos, pos + 1);
    }
  }
  return message;
}

/// One entry of a flag's "patterns": a single regex, or several that must all match somewhere in the message.
struct Alternative {
  std::vector<std::unique_ptr<RE2>> all;
};

struct FlagRule {
  std::string id;
  int prefilter_any = -1;                                // index in the prefilter set of `any`, -1 when none
  std::vector<std::vector<int>> prefilter_combinations;  // per combination, the set indices of its parts
  TriageLevel level = TriageLevel::not_pain;
  std::unique_ptr<RE2> any;               // the single-regex entries, joined
  std::vector<Alternative> combinations;  // the {"all": [...]} entries
  std::unique_ptr<RE2> exception;         // a clause matching this does not count (e.g. "my mum had cancer")
  std::vector<std::string> unless;        // ids of flags that make this one redundant
};

/// A flag that does not depend on phrasing: a domain word and a change word affirmed in one clause.
struct SafetyNet {
  FlagRule rule;                   // id and level of the flag it raises; `any` and `combinations` stay empty
  std::unique_ptr<RE2> domain;     // "bladder", "down there", "both legs"
  std::unique_ptr<RE2> change;     // "weak", "different", "cant"
  std::unique_ptr<RE2> exception;  // a clause matching this does not count ("is fine", "my dad has")
  int prefilter_domain = -1;
  int prefilter_change = -1;
};

struct FiredFlag {
  const FlagRule* rule;
  std::string evidence;
};

}  // namespace

struct RedFlagDetector::Rules {
  std::vector<FlagRule> flags;
  std::vector<SafetyNet> safety_nets;
  std::unique_ptr<RE2> clause_breaks;
  std::string list_separator;
  std::unique_ptr<RE2> list_continuation;
  int list_max_item_words = 3;
  std::unique_ptr<RE2> sentence_words;
  std::unique_ptr<RE2> negator;
  std::unique_ptr<RE2> pseudo_negation;
  std::unique_ptr<RE2> scope_break;
  std::unique_ptr<RE2> negated_after;
  std::unique_ptr<RE2> negated_inside;  // optional
  // Literal strings one of which `negated_after` needs (FilteredRE2 atoms): a clause holding none of them cannot
  // deny a word from behind. Null when the pattern yields no such strings.
  std::unique_ptr<RE2> negated_after_atoms;
  int window_words = 7;
  int after_words = 5;
  std::unique_ptr<RE2> symptom;
  std::unique_ptr<RE2> question_start;
  std::unique_ptr<RE2> first_person;
  std::unique_ptr<RE2> general_question;
  // Optional: words (a body part, a toilet or sex word) that let the wording model read a message the rules call
  // not_pain; "going for a wee feels like someone else is doing it" names no symptom word the rules know.
  std::unique_ptr<RE2> model_gate;
  std::vector<std::unique_ptr<RE2>> score_patterns;
  std::map<std::string, int> number_words;
  std::unique_ptr<RE2> score_not_followed_by;
  int score_threshold = 3;
  std::unique_ptr<RE2> rising;
  std::string score_flag_id;
  TriageLevel score_flag_level = TriageLevel::see_professional;
  std::optional<EmergencyWordingModel> wording_model;
  // The prefilter: FilteredRE2 knows, for every flag and net pattern, which literal strings ("atoms") must occur
  // for it to match; one RE2::Set pass over the message finds the atoms present, and the clause-by-clause,
  // negation-aware matching runs only for patterns whose atoms are there. A Set of the full patterns was tried
  // first: as fast once warm, but its DFA states are huge and the first thousand messages cost 4x (docs/triage.md).
  // Null when off or when no pattern yields atoms (every flag runs).
  std::unique_ptr<re2::FilteredRE2> prefilter;
  std::unique_ptr<RE2::Set> prefilter_atoms;
  std::size_t prefilter_size = 0;
  /// PrefilterHits for a message holding no atom at all (most short answers: "no", "3/10"): the entries that need
  /// none, computed once, as the prefilter tree's walk costs more than the rest of such a message's assessment.
  std::vector<bool> hits_without_atoms;

  // Per prefilter entry: did it match somewhere in the message. Empty: the prefilter is off or failed.
  std::vector<bool> PrefilterHits(const Message& message) const;
  /// The entries the prefilter keeps when the message holds exactly these atoms.
  std::vector<bool> CandidateHits(const std::vector<int>& atoms) const;
  MarkedClauses Mark(const Message& message) const;

  void SplitClauses(Message& message) const;
  /// `may_deny_before` false skips the search for a negator before the match (none in the clause), `may_deny_after`
  /// false the check for a denial after it (none of `negated_after_atoms` in the clause).
  bool IsNegated(const Message& message, Span clause, Span match, bool may_deny_before = true,
                 bool may_deny_after = true) const;
  std::optional<Span> FirstAffirmed(const RE2& regex, const Message& message, Span clause, const RE2* exception) const;
  std::optional<Span> FirstAffirmedAnywhere(const RE2& regex, const Message& message, const RE2* exception,
                                            bool skip_general_questions) const;
  std::optional<std::string> Fire(const FlagRule& rule, const Message& message) const;
  bool DescribesSymptom(const Message& message) const;
  std::optional<std::string> Catch(const SafetyNet& net, const Message& message) const;
};

void RedFlagDetector::Rules::SplitClauses(Message& message) const {
  const std::string& text = message.text;
  const re2::StringPiece input(text);
  const auto count_words = [&](Span span) {
    int words = 0;
    for (std::size_t pos = span.begin; pos < span.end; ++pos) {
      if (!IsSpace(text[pos]) && (pos == span.begin || IsSpace(text[pos - 1]))) ++words;
    }
    return words;
  };
  bool after_separator = false;
  const auto add_clause = [&](std::size_t begin, std::size_t end) {
    while (begin < end && IsSpace(text[begin])) ++begin;
    while (end > begin && IsSpace(text[end - 1])) --end;
    if (begin >= end) return;
    const Span piece{begin, end};
    // "no numbness, tingling or weakness": a bare list item after a comma stays in the negated clause.
    const bool list_item =
        after_separator && !message.clauses.empty() &&
        (RE2::PartialMatch(message.View(piece), *list_continuation) ||
         (count_words(piece) <= list_max_item_words && !RE2::PartialMatch(message.View(piece), *sentence_words)));
    if (list_item) {
      message.clauses.back().end = end;
    } else {
      message.clauses.push_back(piece);
    }
  };
  std::size_t clause_begin = 0;
  re2::StringPiece found;
  for (std::size_t pos = 0; pos < text.size();) {
    if (!clause_breaks->Match(input, pos, text.size(), RE2::UNANCHORED, &found, 1)) break;
    const auto begin = static_cast<std::size_t>(found.data() - text.data());
    const std::size_t end = begin + found.size();
    add_clause(clause_begin, begin);
    after_separator = std::string_view(found.data(), found.size()) == list_separator;
    clause_begin = end;
    pos = end > begin ? end : begin + 1;
  }
  add_clause(clause_begin, text.size());
  for (const Span& clause : message.clauses) {
    const std::string_view view = message.View(clause);
    message.general_question.push_back(
        (RE2::PartialMatch(view, *question_start) && !RE2::PartialMatch(view, *first_person)) ||
        RE2::PartialMatch(view, *general_question));
  }
}

bool RedFlagDetector::Rules::IsNegated(const Message& message, Span clause, Span match, bool may_deny_before,
                                       bool may_deny_after) const {
  const std::string& text = message.text;
  if (may_deny_before) {
    const std::size_t window_begin = LastWordsBegin(text, clause.begin, match.begin, window_words);
    std::string window = text.substr(window_begin, match.begin - window_begin);
    // "not sure why", "probably nothing": a negation word that negates nothing about the symptom.
    RE2::GlobalReplace(&window, *pseudo_negation, " ");
    re2::StringPiece rest(window);
    re2::StringPiece negation;
    std::size_t last_negation_end = std::string::npos;
    for (std::size_t pos = 0; pos < window.size();) {
      if (!negator->Match(rest, pos, window.size(), RE2::UNANCHORED, &negation, 1)) break;
      last_negation_end = static_cast<std::size_t>(negation.data() - window.data()) + negation.size();
      pos = negation.size() > 0 ? last_negation_end : last_negation_end + 1;
    }
    if (last_negation_end != std::string::npos) {
      // The first word of the symptom takes part: "no fever and my legs are numb" breaks the scope at "and my".
      const std::size_t first_word_end = FirstWordsEnd(text, match.begin, match.end, 1);
      const std::string between =
          window.substr(last_negation_end) + text.substr(match.begin, first_word_end - match.begin);
      if (!RE2::PartialMatch(between, *scope_break)) return true;
    }
  }
  if (!may_deny_after) return false;
  // "bladder is fine", "koi numbness nahi hai": the negation comes after the symptom.
  const std::size_t after_end = FirstWordsEnd(text, match.end, clause.end, after_words);
  std::string after = text.substr(match.end, after_end - match.end);
  // "ache, fine when walking" names when it eases: a pseudo-negation after the symptom negates nothing either.
  RE2::GlobalReplace(&after, *pseudo_negation, " ");
  return RE2::PartialMatch(after, *negated_after);
}

std::optional<Span> RedFlagDetector::Rules::FirstAffirmed(const RE2& regex, const Message& message, Span clause,
                                                          const RE2* exception) const {
  const re2::StringPiece input(message.text);
  re2::StringPiece found;
  for (std::size_t pos = clause.begin; pos < clause.end;) {
    if (!regex.Match(input, pos, clause.end, RE2::UNANCHORED, &found, 1)) return std::nullopt;
    const Span match{static_cast<std::size_t>(found.data() - message.text.data()),
                     static_cast<std::size_t>(found.data() - message.text.data()) + found.size()};
    // "my bum isnt numb": a pattern that spans the body word and the symptom can hold the denial inside its match.
    const bool denied_inside = negated_inside && RE2::PartialMatch(message.View(match), *negated_inside);
    if (match.end > match.begin && !denied_inside && !IsNegated(message, clause, match)) {
      if (exception != nullptr && RE2::PartialMatch(message.View(clause), *exception)) return std::nullopt;
      return match;
    }
    // A later, shorter match may start inside this one ("no numbness, tingling"): retry from the next word.
    std::size_t next = match.begin + 1;
    while (next < clause.end && !IsSpace(message.text[next - 1])) ++next;
    pos = next;
  }
  return std::nullopt;
}

std::optional<Span> RedFlagDetector::Rules::FirstAffirmedAnywhere(const RE2& regex, const Message& message,
                                                                  const RE2* exception,
                                                                  bool skip_general_questions) const {
  for (std::size_t index = 0; index < message.clauses.size(); ++index) {
    if (skip_general_questions && message.general_question[index]) continue;
    if (auto match = FirstAffirmed(regex, message, message.clauses[index], exception)) return match;
  }
  return std::nullopt;
}

std::optional<std::string> RedFlagDetector::Rules::Fire(const FlagRule& rule, const Message& message) const {
  // "does sciatica hurt?" asks about running in general; the gravest flags count even inside such questions.
  const bool skip_general_questions = rule.level <= TriageLevel::see_professional;
  if (rule.any) {
    if (auto match = FirstAffirmedAnywhere(*rule.any, message, rule.exception.get(), skip_general_questions)) {
      return message.Evidence(*match);
    }
  }
  for (const Alternative& combination : rule.combinations) {
    std::vector<Span> matches;
    for (const auto& part : combination.all) {
      auto match = FirstAffirmedAnywhere(*part, message, rule.exception.get(), skip_general_questions);
      if (!match) break;
      matches.push_back(*match);
    }
    if (matches.size() != combination.all.size()) continue;
    std::sort(matches.begin(), matches.end(), [](Span a, Span b) { return a.begin < b.begin; });
    std::string evidence;
    for (const Span& span : matches) evidence += (evidence.empty() ? "" : kEvidenceJoiner) + message.Evidence(span);
    return evidence;
  }
  return std::nullopt;
}

std::optional<std::string> RedFlagDetector::Rules::Catch(const SafetyNet& net, const Message& message) const {
  for (std::size_t index = 0; index < message.clauses.size(); ++index) {
    if (message.general_question[index]) continue;
    const Span& clause = message.clauses[index];
    if (net.exception && RE2::PartialMatch(message.View(clause), *net.exception)) continue;
    if (FirstAffirmed(*net.domain, message, clause, nullptr) && FirstAffirmed(*net.change, message, clause, nullptr)) {
      return message.Evidence(clause);
    }
  }
  return std::nullopt;
}

std::vector<bool> RedFlagDetector::Rules::CandidateHits(const std::vector<int>& atoms) const {
  std::vector<int> candidates;
  prefilter->AllPotentials(atoms, &candidates);
  std::vector<bool> hits(prefilter_size, false);
  for (const int index : candidates) hits[static_cast<std::size_t>(index)] = true;
  return hits;
}

std::vector<bool> RedFlagDetector::Rules::PrefilterHits(const Message& message) const {
  if (!prefilter) return {};
  std::vector<int> atoms;
  RE2::Set::ErrorInfo error{RE2::Set::kNoError};
  if (!prefilter_atoms->Match(message.text, &atoms, &error) && error.kind != RE2::Set::kNoError) {
    return {};  // e.g. the DFA ran out of memory on a hostile message: fall back to running every flag
  }
  if (atoms.empty()) return hits_without_atoms;
  return CandidateHits(atoms);
}

MarkedClauses RedFlagDetector::Rules::Mark(const Message& message) const {
  const auto is_word_byte = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || static_cast<unsigned char>(c) >= 0x80;
  };
  MarkedClauses marked;
  marked.reserve(message.clauses.size());
  const re2::StringPiece input(message.text);
  for (const Span& clause : message.clauses) {
    // Most clauses hold no negator at all; then only "... is fine" after a word can deny it.
    const bool has_negator = negator->Match(input, clause.begin, clause.end, RE2::UNANCHORED, nullptr, 0);
    const bool may_deny_after = !negated_after_atoms || negated_after_atoms->Match(input, clause.begin, clause.end,
                                                                                   RE2::UNANCHORED, nullptr, 0);
    std::vector<std::string> words;
    for (std::size_t pos = clause.begin; pos < clause.end;) {
      while (pos < clause.end && IsSpace(message.text[pos])) ++pos;
      std::size_t end = pos;
      while (end < clause.end && !IsSpace(message.text[end])) ++end;
      Span word{pos, end};
      while (word.begin < word.end && !is_word_byte(message.text[word.begin])) ++word.begin;
      while (word.end > word.begin && !is_word_byte(message.text[word.end - 1])) --word.end;
      if (word.begin < word.end) {
        std::string text(message.View(word));
        words.push_back(IsNegated(message, clause, word, has_negator, may_deny_after) ? "NEG_" + text
                                                                                      : std::move(text));
      }
      pos = end;
    }
    marked.push_back(std::move(words));
  }
  return marked;
}

bool RedFlagDetector::Rules::DescribesSymptom(const Message& message) const {
  return FirstAffirmedAnywhere(*symptom, message, nullptr, true).has_value();
}

RedFlagDetector::RedFlagDetector(std::unique_ptr<Rules> rules) : rules_(std::move(rules)) {}
RedFlagDetector::RedFlagDetector(RedFlagDetector&&) noexcept = default;
RedFlagDetector& RedFlagDetector::operator=(RedFlagDetector&&) noexcept = default;
RedFlagDetector::~RedFlagDetector() = default;

const RedFlagDetector& RedFlagDetector::Default() {
  static const RedFlagDetector detector = [] {
    DetectorOptions options;
    options.wording_model = EmergencyWordingModel::FromText(EmbeddedWordingModelText());
    return FromRulesJson(EmbeddedRulesJson(), std::move(options));
  }();
  return detector;
}

RedFlagDetector RedFlagDetector::WithWordingModel(std::optional<EmergencyWordingModel> model) && {
  rules_->wording_model = std::move(model);
  return RedFlagDetector(std::move(rules_));
}

std::string_view RedFlagDetector::EmbeddedRulesJson() {
  return coach::embedded::kRedFlagRulesJson;
}

std::string_view RedFlagDetector::EmbeddedWordingModelText() {
  return coach::embedded::kEmergencyWordingModel;
}

MarkedClauses RedFlagDetector::MarkClauses(std::string_view raw_message) const {
  Message message = Normalize(raw_message);
  if (message.text.empty()) return {};
  rules_->SplitClauses(message);
  return rules_->Mark(message);
}

RedFlagDetector RedFlagDetector::FromRulesJson(std::string_view rules_json, DetectorOptions options) {
  Json document;
  try {
    document = Json::parse(rules_json.begin(), rules_json.end());
  } catch (const Json::parse_error& error) {
    throw std::invalid_argument(std::string("red-flag rules: not valid JSON: ") + error.what());
  }
  if (!document.is_object()) throw std::invalid_argument("red-flag rules: the document must be a JSON object");

  std::map<std::string, std::string> terms;
  if (document.contains("terms")) {
    if (!document["terms"].is_object()) throw std::invalid_argument("red-flag rules: \"terms\" must be an object");
    for (const auto& [name, pattern] : document["terms"].items()) {
      if (!pattern.is_string()) throw std::invalid_argument("red-flag rules: term " + name + " must be a string");
      terms[name] = pattern.get<std::string>();
    }
  }
  const auto compile = [&](const Json& patterns, const std::string& where) {
    return CompileOrThrow(ExpandTerms(JoinAlternatives(patterns, where), terms, where), where);
  };
  constexpr int kMinAtomLength = 2;  // single letters filter nothing; 2 measured best (fewer instructions than 3-5)
  auto prefilter = std::make_unique<re2::FilteredRE2>(kMinAtomLength);
  std::size_t prefilter_entries = 0;
  const auto add_to_prefilter = [&](const Json& patterns, const std::string& where) {
    int index = -1;
    const auto added =
        prefilter->Add(ExpandTerms(JoinAlternatives(patterns, where), terms, where), MatchingOptions(), &index);
    if (added != RE2::NoError || index < 0) {
      throw std::invalid_argument("red-flag rules: " + where + ": the prefilter rejects the pattern");
    }
    prefilter_entries = static_cast<std::size_t>(index) + 1;
    return index;
  };

  auto rules = std::make_unique<Rules>();
  const Json& clauses = Require(document, "clauses", "document");
  rules->clause_breaks = compile(Require(clauses, "breaks", "clauses"), "clauses.breaks");
  const Json& lists = Require(document, "lists", "document");
  rules->list_separator = RequireString(lists, "separator", "lists");
  rules->list_continuation = compile(Require(lists, "continuation", "lists"), "lists.continuation");
  rules->list_max_item_words = RequirePositiveInt(lists, "max_item_words", "lists");
  rules->sentence_words = compile(Require(lists, "sentence_words", "lists"), "lists.sentence_words");

  const Json& negation = Require(document, "negation", "document");
  rules->negator = compile(Require(negation, "before", "negation"), "negation.before");
  rules->pseudo_negation = compile(Require(negation, "pseudo", "negation"), "negation.pseudo");
  rules->scope_break = compile(Require(negation, "scope_breaks", "negation"), "negation.scope_breaks");
  rules->negated_after = compile(Require(negation, "after", "negation"), "negation.after");
  {
    re2::FilteredRE2 after_filter(/*min_atom_len=*/1);
    int id = -1;
    after_filter.Add(rules->negated_after->pattern(), MatchingOptions(), &id);
    std::vector<std::string> atoms;
    after_filter.Compile(&atoms);
    std::vector<int> unfiltered;
    after_filter.AllPotentials({}, &unfiltered);
    if (!atoms.empty() && unfiltered.empty()) {
      std::string any_atom;
      for (const std::string& atom : atoms) any_atom += (any_atom.empty() ? "" : "|") + RE2::QuoteMeta(atom);
      rules->negated_after_atoms = CompileOrThrow(any_atom, "negation.after atoms");
    }
  }
  if (negation.contains("inside")) rules->negated_inside = compile(negation["inside"], "negation.inside");
  rules->window_words = RequirePositiveInt(negation, "window_words", "negation");
  rules->after_words = RequirePositiveInt(negation, "after_words", "negation");

  const Json& symptoms = Require(document, "symptoms", "document");
  rules->symptom = compile(Require(symptoms, "patterns", "symptoms"), "symptoms.patterns");
  rules->question_start = compile(Require(symptoms, "question_start", "symptoms"), "symptoms.question_start");
  rules->first_person = compile(Require(symptoms, "first_person", "symptoms"), "symptoms.first_person");
  rules->general_question = compile(Require(symptoms, "general_question", "symptoms"), "symptoms.general_question");
  if (symptoms.contains("model_gate")) rules->model_gate = compile(symptoms["model_gate"], "symptoms.model_gate");

  const Json& score = Require(document, "pain_score", "document");
  const Json& score_patterns = Require(score, "patterns", "pain_score");
  if (!score_patterns.is_array() || score_patterns.empty()) {
    throw std::invalid_argument("red-flag rules: pain_score: \"patterns\" must be a non-empty list");
  }
  for (std::size_t i = 0; i < score_patterns.size(); ++i) {
    const std::string where = "pain_score pattern " + std::to_string(i + 1);
    auto regex = compile(score_patterns[i], where);
    if (regex->NumberOfCapturingGroups() < 1) {
      throw std::invalid_argument("red-flag rules: " + where + ": needs a capturing group for the score");
    }
    rules->score_patterns.push_back(std::move(regex));
  }
  const Json& number_words = Require(score, "number_words", "pain_score");
  if (!number_words.is_object()) throw std::invalid_argument("red-flag rules: pain_score.number_words: not an object");
  for (const auto& [word, value] : number_words.items()) {
    if (!value.is_number_integer())
      throw std::invalid_argument("red-flag rules: number word " + word + ": not a number");
    rules->number_words[word] = value.get<int>();
  }
  rules->score_not_followed_by = compile(Require(score, "not_followed_by", "pain_score"), "pain_score.not_followed_by");
  rules->score_threshold = RequirePositiveInt(score, "threshold", "pain_score");
  rules->rising = compile(Require(score, "rising", "pain_score"), "pain_score.rising");
  rules->score_flag_id = RequireString(score, "flag", "pain_score");
  const auto score_level = ParseTriageLevel(RequireString(score, "level", "pain_score"));
  if (!score_level) throw std::invalid_argument("red-flag rules: pain_score: unknown level");
  rules->score_flag_level = *score_level;

  const Json& flags = Require(document, "flags", "document");
  if (!flags.is_array()) throw std::invalid_argument("red-flag rules: \"flags\" must be a list");
  for (std::size_t index = 0; index < flags.size(); ++index) {
    const Json& entry = flags[index];
    const std::string id = entry.is_object() && entry.contains("id") && entry["id"].is_string()
                               ? entry["id"].get<std::string>()
                               : "#" + std::to_string(index + 1);
    const std::string where = "flag '" + id + "'";
    FlagRule rule;
    rule.id = RequireString(entry, "id", where);
    for (const FlagRule& earlier : rules->flags) {
      if (earlier.id == rule.id) throw std::invalid_argument("red-flag rules: " + where + ": duplicate id");
    }
    const auto level = ParseTriageLevel(RequireString(entry, "level", where));
    if (!level || *level == TriageLevel::not_pain) {
      throw std::invalid_argument("red-flag rules: " + where +
                                  ": level must be emergency, urgent, "
                                  "see_professional or self_care");
    }
    rule.level = *level;
    const Json& patterns = Require(entry, "patterns", where);
    if (!patterns.is_array() || patterns.empty()) {
      throw std::invalid_argument("red-flag rules: " + where + ": \"patterns\" must be a non-empty list");
    }
    std::string joined;
    for (std::size_t i = 0; i < patterns.size(); ++i) {
      const std::string pattern_where = where + " pattern " + std::to_string(i + 1);
      const Json& pattern = patterns[i];
      if (pattern.is_string()) {
        // Compiled alone first, so that an error names the very pattern that is wrong.
        const std::string expanded = ExpandTerms(pattern.get<std::string>(), terms, pattern_where);
        CompileOrThrow(expanded, pattern_where);
        joined += (joined.empty() ? "(?:" : "|(?:") + expanded + ")";
      } else if (pattern.is_object() && pattern.contains("all") && pattern["all"].is_array() &&
                 pattern["all"].size() >= 2) {
        Alternative combination;
        std::vector<int> parts;
        for (const auto& part : pattern["all"]) {
          combination.all.push_back(compile(part, pattern_where));
          parts.push_back(add_to_prefilter(part, pattern_where));
        }
        rule.combinations.push_back(std::move(combination));
        rule.prefilter_combinations.push_back(std::move(parts));
      } else {
        throw std::invalid_argument("red-flag rules: " + pattern_where +
                                    ": expected a pattern string or {\"all\": [two or more patterns]}");
      }
    }
    if (!joined.empty()) {
      rule.any = CompileOrThrow(joined, where);
      rule.prefilter_any = add_to_prefilter(joined, where);
    }
    if (entry.contains("except")) rule.exception = compile(entry["except"], where + " except");
    if (entry.contains("unless")) {
      if (!entry["unless"].is_array()) throw std::invalid_argument("red-flag rules: " + where + ": bad \"unless\"");
      for (const auto& other : entry["unless"]) {
        if (!other.is_string()) throw std::invalid_argument("red-flag rules: " + where + ": bad \"unless\"");
        rule.unless.push_back(other.get<std::string>());
      }
    }
    rules->flags.push_back(std::move(rule));
  }
  for (const FlagRule& rule : rules->flags) {
    for (const std::string& other : rule.unless) {
      const bool known = std::any_of(rules->flags.begin(), rules->flags.end(),
                                     [&](const FlagRule& candidate) { return candidate.id == other; });
      if (!known) {
        throw std::invalid_argument("red-flag rules: flag '" + rule.id + "': \"unless\" names unknown flag " + other);
      }
    }
  }
  if (document.contains("safety_nets")) {
    const Json& nets = document["safety_nets"];
    if (!nets.is_array()) throw std::invalid_argument("red-flag rules: \"safety_nets\" must be a list");
    for (std::size_t index = 0; index < nets.size(); ++index) {
      const std::string where = "safety net #" + std::to_string(index + 1);
      const Json& entry = nets[index];
      SafetyNet net;
      net.rule.id = RequireString(entry, "id", where);
      const auto level = ParseTriageLevel(RequireString(entry, "level", where));
      if (!level || *level == TriageLevel::not_pain) {
        throw std::invalid_argument("red-flag rules: " + where + ": level must be above not_pain");
      }
      net.rule.level = *level;
      net.domain = compile(Require(entry, "domain", where), where + " domain");
      net.change = compile(Require(entry, "change", where), where + " change");
      net.prefilter_domain = add_to_prefilter(entry["domain"], where + " domain");
      net.prefilter_change = add_to_prefilter(entry["change"], where + " change");
      if (entry.contains("except")) net.exception = compile(entry["except"], where + " except");
      rules->safety_nets.push_back(std::move(net));
    }
  }
  rules->prefilter_size = prefilter_entries;
  if (options.prefilter && prefilter_entries > 0) {
    std::vector<std::string> atoms;
    prefilter->Compile(&atoms);
    auto atom_set = std::make_unique<RE2::Set>(MatchingOptions(), RE2::UNANCHORED);
    for (const std::string& atom : atoms) atom_set->Add(RE2::QuoteMeta(atom), nullptr);
    if (!atoms.empty() && atom_set->Compile()) {
      rules->prefilter = std::move(prefilter);
      rules->prefilter_atoms = std::move(atom_set);
      rules->hits_without_atoms = rules->CandidateHits({});
    }
  }
  rules->wording_model = std::move(options.wording_model);
  return RedFlagDetector(std::move(rules));
}

TriageDecision RedFlagDetector::Assess(std::string_view raw_message) const {
  TriageDecision decision;
  Message message = Normalize(raw_message);
  if (message.text.empty()) return decision;
  rules_->SplitClauses(message);

  const std::vector<bool> hits = rules_->PrefilterHits(message);
  const auto may_match = [&](int index) { return hits.empty() || hits[static_cast<std::size_t>(index)]; };
  std::vector<FiredFlag> fired;
  for (const FlagRule& rule : rules_->flags) {
    const bool candidate =
        (rule.any && may_match(rule.prefilter_any)) ||
        std::any_of(rule.prefilter_combinations.begin(), rule.prefilter_combinations.end(),
                    [&](const std::vector<int>& parts) { return std::all_of(parts.begin(), parts.end(), may_match); });
    if (!candidate) continue;
    if (auto evidence = rules_->Fire(rule, message)) fired.push_back({&rule, std::move(*evidence)});
  }
  // The nets catch wording no rule foresaw; a specific flag at their level already says more, so they stay quiet.
  for (const SafetyNet& net : rules_->safety_nets) {
    const bool covered = std::any_of(fired.begin(), fired.end(),
                                     [&](const FiredFlag& flag) { return flag.rule->level >= net.rule.level; });
    if (covered || !may_match(net.prefilter_domain) || !may_match(net.prefilter_change)) continue;
    if (auto evidence = rules_->Catch(net, message)) fired.push_back({&net.rule, std::move(*evidence)});
  }

  // Pain score: the worst score written; rising when a later score is higher or the text says so.
  struct Score {
    std::size_t position;
    int value;
    Span span;
  };
  std::vector<Score> scores;
  const re2::StringPiece input(message.text);
  for (std::size_t index = 0; index < message.clauses.size(); ++index) {
    // "what is the 3/10 rule?" quotes a score without reporting one.
    if (message.general_question[index]) continue;
    const Span& clause = message.clauses[index];
    for (const auto& pattern : rules_->score_patterns) {
      re2::StringPiece groups[2];
      for (std::size_t pos = clause.begin; pos < clause.end;) {
        if (!pattern->Match(input, pos, clause.end, RE2::UNANCHORED, groups, 2)) break;
        const Span whole{static_cast<std::size_t>(groups[0].data() - message.text.data()),
                         static_cast<std::size_t>(groups[0].data() - message.text.data()) + groups[0].size()};
        pos = whole.end > whole.begin ? whole.end : whole.begin + 1;
        if (groups[1].data() == nullptr) continue;
        const std::string number(groups[1].data(), groups[1].size());
        int value = -1;
        if (const auto word = rules_->number_words.find(number); word != rules_->number_words.end()) {
          value = word->second;
        } else if (std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; })) {
          value = std::stoi(number);
        }
        if (value < 0 || value > 10) continue;
        const std::string following = message.text.substr(whole.end, 24);
        if (RE2::PartialMatch(following, *rules_->score_not_followed_by)) continue;
        const auto number_position = static_cast<std::size_t>(groups[1].data() - message.text.data());
        const bool duplicate = std::any_of(scores.begin(), scores.end(),
                                           [&](const Score& seen) { return seen.position == number_position; });
        if (!duplicate) scores.push_back({number_position, value, whole});
      }
    }
  }
  if (!scores.empty()) {
    std::sort(scores.begin(), scores.end(), [](const Score& a, const Score& b) { return a.position < b.position; });
    const auto worst = std::max_element(scores.begin(), scores.end(),
                                        [](const Score& a, const Score& b) { return a.value < b.value; });
    decision.pain_score = worst->value;
    const bool later_higher = std::adjacent_find(scores.begin(), scores.end(), [](const Score& a, const Score& b) {
                                return b.value > a.value;
                              }) != scores.end();
    const auto rising = rules_->FirstAffirmedAnywhere(*rules_->rising, message, nullptr, false);
    if (worst->value > rules_->score_threshold && (rising || later_higher)) {
      std::string evidence = message.Evidence(worst->span);
      if (rising) evidence += kEvidenceJoiner + message.Evidence(*rising);
      decision.flags.push_back(rules_->score_flag_id);
      decision.evidence.push_back(std::move(evidence));
      decision.level = rules_->score_flag_level;
    }
  }

  std::vector<FiredFlag> kept;
  for (const FiredFlag& flag : fired) {
    const bool redundant = std::any_of(flag.rule->unless.begin(), flag.rule->unless.end(), [&](const std::string& id) {
      return std::any_of(fired.begin(), fired.end(), [&](const FiredFlag& other) { return other.rule->id == id; });
    });
    if (!redundant) kept.push_back(flag);
  }
  std::stable_sort(kept.begin(), kept.end(),
                   [](const FiredFlag& a, const FiredFlag& b) { return a.rule->level > b.rule->level; });

  // Merge the score flag into the ordered list: it sits after every flag at least as urgent as it.
  std::vector<std::string> flag_ids;
  std::vector<std::string> evidence;
  bool score_placed = decision.flags.empty();
  for (FiredFlag& flag : kept) {
    if (!score_placed && flag.rule->level < rules_->score_flag_level) {
      flag_ids.push_back(decision.flags.front());
      evidence.push_back(decision.evidence.front());
      score_placed = true;
    }
    flag_ids.push_back(flag.rule->id);
    evidence.push_back(std::move(flag.evidence));
    decision.level = std::max(decision.level, flag.rule->level);
  }
  if (!score_placed) {
    flag_ids.push_back(decision.flags.front());
    evidence.push_back(decision.evidence.front());
  }
  decision.flags = std::move(flag_ids);
  decision.evidence = std::move(evidence);

  if (decision.level == TriageLevel::not_pain && (decision.pain_score || rules_->DescribesSymptom(message))) {
    decision.level = TriageLevel::self_care;
  }
  // The second opinion only raises, and only a message that describes a symptom or names (affirmed, outside a
  // general question) a body part, toilet or sex word: a chat line ("can you make me a plan") never becomes an
  // emergency on wording alone.
  const bool gate_open =
      decision.level >= TriageLevel::self_care ||
      (rules_->model_gate && rules_->FirstAffirmedAnywhere(*rules_->model_gate, message, nullptr, true).has_value());
  if (rules_->wording_model && gate_open && decision.level < TriageLevel::emergency) {
    const MarkedClauses clauses = rules_->Mark(message);
    std::size_t words = 0;
    for (const auto& clause : clauses) words += clause.size();
    // A short line ("my leg has gone numb") gives the n-grams too little to go on and pushes p to the extremes, and
    // most short numbness lines in training are emergencies: the rules alone judge lines under six words.
    const bool enough_words = words >= kWordingModelMinWords;
    const double probability = enough_words ? rules_->wording_model->Probability(clauses) : 0.0;
    if (enough_words && probability >= rules_->wording_model->threshold()) {
      char figure[16];
      std::snprintf(figure, sizeof figure, "%.2f", probability);
      const Span clause = message.clauses[rules_->wording_model->StrongestClause(clauses)];
      decision.flags.insert(decision.flags.begin(), kWordingModelFlag);
      decision.evidence.insert(decision.evidence.begin(), std::string("model: emergency-like wording, p=") + figure +
                                                              ": " + message.Evidence(clause));
      decision.level = TriageLevel::emergency;
    }
  }
  return decision;
}

}  // namespace coach::dialog
