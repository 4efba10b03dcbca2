#include "knowledge/query_builder.h"

#include <algorithm>
#include <array>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "knowledge/common_words.h"

namespace coach::knowledge {
namespace {

// Words that carry no topic: function words and the fillers of a question. Domain words ("back", "pain", "run")
// stay: BM25's IDF already makes them cheap because every topic uses them. "why" stays too: the causes topic
// answers exactly that, and its authors tag it.
constexpr std::array kStopWords = {
    "a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "anyone", "anything", "are", "aren", "as",
    "at", "be", "because", "been", "being", "but", "by", "can", "cant", "could", "couldnt", "did", "didnt", "do",
    "does", "doesnt", "doing", "dont", "each", "even", "ever", "every", "for", "from", "get", "gets", "getting", "go",
    "going", "got", "had", "has", "hasnt", "have", "havent", "having", "he", "her", "here", "hers", "him", "his", "how",
    "i", "id", "if", "ill", "im", "in", "into", "is", "isnt", "it", "its", "ive", "just", "know", "let", "lets", "like",
    "may", "maybe", "me", "might", "mine", "more", "most", "much", "must", "my", "myself", "need", "no", "not", "of",
    "off", "oh", "ok", "okay", "on", "one", "only", "or", "other", "our", "ours", "out", "own", "please", "quite",
    "really", "say", "she", "should", "shouldnt", "so", "some", "someone", "something", "still", "such", "sure", "tell",
    "than", "thanks", "that", "thats", "the", "their", "them", "then", "there", "these", "they", "thing", "things",
    "think", "this", "those", "to", "too", "u", "up", "us", "very", "want", "was", "wasnt", "way", "we", "well", "were",
    "what", "whats", "when", "where", "whether", "which", "while", "who", "will", "with", "wont", "would", "wouldnt",
    "yes", "yet", "you", "your", "youre", "yours", "yourself",
    // Chat filler: in no topic, so as unknown words they would count against every topic's coverage.
    "anyway", "anyways", "else", "people", "guys", "mate", "lol", "ugh", "hey", "hi", "hello", "pls", "plz", "thx",
    "cheers", "actually", "basically", "literally", "kinda", "sorta", "honestly", "idk", "tbh", "btw", "gonna", "wanna",
    "gotta", "ya", "yeah", "hmm",
    // The framing of a request, not its subject: "ideas for a warm-up" is about the warm-up.
    "idea", "ideas", "tip", "tips", "advice", "suggestion", "suggestions", "towards", "toward",
    // Adverbs and fillers of everyday questions.
    "always", "sometimes", "usually", "since", "till", "until", "properly", "deal", "pretty", "super", "totally",
    "definitely", "probably", "possibly", "already", "almost", "lately", "recently", "currently", "today", "tonight",
    "yesterday", "anymore", "somehow", "exactly",
    // How a question weighs its subject ("is a cool-down important"), not the subject.
    "important", "necessary", "essential", "useful", "helpful", "effective", "recommended", "needed", "required",
    "worthwhile", "beneficial",
    // More of the same, seen in holdouts v3 and v4 after their first runs ("roughly how many weeks", "stop running
    // altogether", "explain the 3/10 thing", "back issues").
    "roughly", "altogether", "total", "particular", "particularly", "proper", "explain", "home", "right", "issue",
    "issues", "problem", "problems", "adjust", "modify",
    // Everyday words that the content happens to use in only one or two topics ("afterwards", "different", "done"),
    // where they would act as that topic's subject.
    "above", "afterwards", "ago", "alike", "along", "alongside", "another", "appear", "approach", "asking", "below",
    "beside", "briefly", "brings", "choose", "closer", "completely", "consistently", "count", "deeply", "depends",
    "difference", "different", "directly", "doubt", "done", "due", "earlier", "easier", "everyday", "example",
    "excellent", "extra", "second", "third", "fourth", "fifth", "five", "six", "seven", "nine", "twice", "gives",
    "glance", "goes", "gone", "guess", "hardly", "include", "involve", "involved", "items", "keeping", "late", "least",
    "leave", "left", "lightly", "looked", "looks", "made", "mostly", "nice", "none", "normally", "note", "nothing",
    "opposite", "places", "plenty", "rarely", "result", "says", "seen", "several", "shows", "single", "smaller",
    "suggest", "taken", "takes", "taking", "talk", "thousands", "try", "turn", "typical", "used", "using", "welcome",
    "whatever", "within",
    // Generic words of a question that happen to be rare in the content ("end", "point", "kind"): as rare words they
    // would weigh like a topic's own subject, pull the question to whichever topic uses them and, absent from the
    // right topic, cut its coverage.
    "point", "end", "differently", "kind", "kinds", "sort", "type", "types", "best", "normal", "usual", "time", "times",
    "happen", "happens", "happening", "worth", "lot", "lots", "stuff", "whole",
    // Buying is the framing, not the subject: "is a foam roller worth buying" asks about the roller, yet "bought"
    // occurs in the shoes topic only.
    "buy", "buying", "bought", "purchase", "purchasing",
    // Judging a claim or a choice ("10 percent rule, real or myth?", "a break, or is that overkill?", "is a corset
    // wise?") is the framing too: the subject is the rule, the break or the corset.
    "overkill", "myth", "myths", "real", "true", "truth", "legit", "silly", "stupid", "crazy", "wise", "sensible",
    "smart", "fine", "allowed",
    // Pronouns, connectors and generic verbs that no topic is about ("running itself", "pain plus tingling", "from
    // mile 3 onwards", "put extra strain on").
    "itself", "himself", "herself", "themselves", "plus", "onwards", "onward", "put", "puts", "instead", "rather",
    "either", "neither", "both", "though", "although", "however", "unless", "besides",
    // Whether something helps is the framing ("can stretching fix my back pain", "is there a cure"): "help" is in
    // nearly every topic and weighs nothing, its synonyms should not weigh more.
    "fix", "fixes", "fixed", "cure", "cures", "solve", "solves",
    // More framing in other voices: a verdict asked for ("yay or nay", "am I grand to"), a reminder, a generic
    // qualifier ("a specific reason", "part of the deal"), chat particles ("hello po", "flat na").
    "yay", "nay", "grand", "reckon", "remind", "specific", "part", "po", "na"};

bool IsAsciiDigit(char c) {
  return c >= '0' && c <= '9';
}

bool IsAsciiAlphanumeric(unsigned char c) {
  return (c >= 'a' && c <= 'z') || IsAsciiDigit(static_cast<char>(c));
}

// Optimal string alignment distance (Levenshtein plus adjacent transpositions), stopping early above `limit`.
int EditDistance(const std::string& a, const std::string& b, int limit) {
  const std::size_t n = a.size();
  const std::size_t m = b.size();
  if (static_cast<int>(n > m ? n - m : m - n) > limit) return limit + 1;
  std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = static_cast<int>(i);
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = static_cast<int>(j);
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

std::vector<std::string> Deletions(const std::string& word) {
  std::vector<std::string> result;
  for (std::size_t i = 0; i < word.size(); ++i) result.push_back(word.substr(0, i) + word.substr(i + 1));
  return result;
}

bool IsAlphabetic(const std::string& word) {
  return std::all_of(word.begin(), word.end(), [](unsigned char c) { return c >= 'a' && c <= 'z'; });
}

constexpr std::size_t kMinTypoLength = 5;
constexpr std::size_t kTwoEditsLength = 8;

// "I'm 58" asks about an older runner: ages from here on join the synonym group of kOlderRunnerTerm.
constexpr int kOlderRunnerAge = 40;
constexpr const char* kOlderRunnerTerm = "older";

// "3/10" reads "3 out of 10", so that a pain score written with a slash joins the pain-score synonym group.
std::string SpellOutPainScores(std::string_view text) {
  std::string spelled;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool score = text[i] == '/' && i > 0 && text[i - 1] >= '0' && text[i - 1] <= '9' &&
                       text.substr(i + 1, 2) == "10" &&
                       (i + 3 >= text.size() || text[i + 3] < '0' || text[i + 3] > '9');
    spelled += score ? std::string(" out of ") : std::string(1, text[i]);
  }
  return spelled;
}

// The clauses of `text`: a phrase never spans a comma, colon or sentence end, so that "**After your run:** walk"
// is no "run walk" and "if it hurts, run less" holds no "hurts run".
std::vector<std::string_view> Clauses(std::string_view text) {
  std::vector<std::string_view> clauses;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && std::string_view(",;:.!?()\n").find(text[i]) == std::string_view::npos) continue;
    if (i > start) clauses.push_back(text.substr(start, i - start));
    start = i + 1;
  }
  return clauses;
}

}  // namespace

std::vector<std::string> QueryBuilder::Words(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) words.push_back(std::move(word));
    word.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      const auto lower = static_cast<unsigned char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      if (IsAsciiAlphanumeric(lower)) {
        word += static_cast<char>(lower);
      } else if (c != '\'' || (!word.empty() && IsAsciiDigit(word.back()))) {
        // "don't" reads "dont", "runner's" reads "runners"; after a digit it is a unit (6'5", 3'45), no contraction.
        flush();
      }
      continue;
    }
    // Letters beyond ASCII (accents, other scripts) stay part of the word; the index's unicode61 folds them.
    // Typographic apostrophes (U+2018, U+2019) fold away like the ASCII one; other punctuation and symbols
    // (U+0080..U+00BF, U+2000 and up in three-byte sequences, emoji) separate words.
    const std::size_t length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    const auto next = [&](std::size_t k) { return i + k < text.size() ? static_cast<unsigned char>(text[i + k]) : 0; };
    if (c == 0xE2 && next(1) == 0x80 && (next(2) == 0x98 || next(2) == 0x99)) {
      i += 2;
      continue;
    }
    if (c >= 0xF0 || c == 0xC2 || c >= 0xE2 || c < 0xC0) {
      flush();
      i += length - 1;
      continue;
    }
    word.append(text.substr(i, std::min(length, text.size() - i)));
    i += length - 1;
  }
  flush();
  return words;
}

bool QueryBuilder::IsStopWord(std::string_view word) {
  // Asked for every word of every question: a hash lookup, not a scan of the list.
  static const std::unordered_set<std::string_view> stop_words(kStopWords.begin(), kStopWords.end());
  return stop_words.count(word) != 0;
}

QueryBuilder::QueryBuilder(const SynonymTable& synonyms, const std::vector<std::string>& vocabulary, SynonymMode mode)
    : synonyms_(synonyms), mode_(mode) {
  for (const auto& word : vocabulary) vocabulary_.insert(word);
  for (const auto& group : synonyms.groups()) {
    for (const auto& term : group) {
      for (const auto& word : Words(term)) vocabulary_.insert(word);
    }
  }
  for (const auto& word : vocabulary_) {
    // A typo is never "corrected" into a stop word: "world" must not turn into "would".
    if (word.size() + 1 < kMinTypoLength || !IsAlphabetic(word) || IsStopWord(word)) continue;
    words_by_deletion_.emplace(word, word);
    for (const auto& deletion : Deletions(word)) words_by_deletion_.emplace(deletion, word);
  }
}

std::string QueryBuilder::Correct(const std::string& word) const {
  if (word.size() < kMinTypoLength || !IsAlphabetic(word) || IsCommonEnglishWord(word)) return "";
  const int limit = word.size() >= kTwoEditsLength ? 2 : 1;
  std::string best;
  int best_distance = limit + 1;
  auto consider = [&](const std::string& key) {
    const auto [first, last] = words_by_deletion_.equal_range(key);
    for (auto it = first; it != last; ++it) {
      const int distance = EditDistance(word, it->second, limit);
      // Ties go to the alphabetically first word, so that a query's meaning never depends on hash order.
      if (distance < best_distance || (distance == best_distance && it->second < best)) {
        best_distance = distance;
        best = it->second;
      }
    }
  };
  consider(word);
  for (const auto& deletion : Deletions(word)) consider(deletion);
  return best_distance <= limit ? best : "";
}

std::string QueryBuilder::BaseForm(const std::string& word) const {
  if (word.size() < kMinTypoLength || !IsAlphabetic(word)) return "";
  const auto ends_with = [&](std::string_view suffix) {
    return word.size() > suffix.size() + 2 && word.compare(word.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  const auto strip = [&](std::size_t length) { return word.substr(0, word.size() - length); };
  std::vector<std::string> candidates;
  if (ends_with("ily")) candidates.push_back(strip(3) + "y");
  if (ends_with("ly")) candidates.push_back(strip(2));
  if (ends_with("ier")) candidates.push_back(strip(3) + "y");
  if (ends_with("iest")) candidates.push_back(strip(4) + "y");
  for (const std::size_t length : {std::size_t{2}, std::size_t{3}}) {
    if (!ends_with(length == 2 ? "er" : "est")) continue;
    const std::string base = strip(length);
    candidates.push_back(base);
    candidates.push_back(base + "e");  // looser -> loose
    if (base.size() >= 2 && base[base.size() - 1] == base[base.size() - 2]) {
      candidates.push_back(base.substr(0, base.size() - 1));  // bigger -> big, but stiffer -> stiff first
    }
  }
  for (const auto& candidate : candidates) {
    if (vocabulary_.count(candidate) != 0 && !IsStopWord(candidate)) return candidate;
  }
  return "";
}

std::string QueryBuilder::ConceptToken(const std::vector<std::string>& group) {
  std::string token = "syn";
  for (char c : group.front()) {
    if (IsAsciiAlphanumeric(static_cast<unsigned char>(c))) token += c;
  }
  return token;
}

std::pair<const std::vector<std::string>*, std::size_t> QueryBuilder::GroupAt(const std::vector<std::string>& words,
                                                                              std::size_t start) const {
  const std::size_t longest = std::min(synonyms_.LongestTermStartingWith(words[start]), words.size() - start);
  if (longest == 0) return {nullptr, 0};
  // The longest phrase once; each shorter one is a prefix of it.
  std::string phrase = words[start];
  std::vector<std::size_t> ends = {phrase.size()};
  for (std::size_t k = 1; k < longest; ++k) {
    phrase += ' ';
    phrase += words[start + k];
    ends.push_back(phrase.size());
  }
  for (std::size_t length = longest; length >= 1; --length) {
    if (const auto* group = synonyms_.GroupOf(std::string_view(phrase).substr(0, ends[length - 1]))) {
      return {group, length};
    }
  }
  return {nullptr, 0};
}

const std::vector<std::string>* QueryBuilder::AgeGroup(const std::vector<std::string>& words, std::size_t at) const {
  const std::string& word = words[at];
  if (word.size() != 2 || !std::all_of(word.begin(), word.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return nullptr;
  }
  if (std::stoi(word) < kOlderRunnerAge) return nullptr;
  const std::string before = at > 0 ? words[at - 1] : "";
  const std::string after = at + 1 < words.size() ? words[at + 1] : "";
  const bool age = before == "im" || before == "am" || before == "aged" || before == "age" || after == "years" ||
                   after == "yrs" || after == "yo" || after == "year";
  return age ? synonyms_.GroupOf(kOlderRunnerTerm) : nullptr;
}

std::vector<std::string> QueryBuilder::GroupAlternatives(const std::vector<std::string>& group) const {
  if (mode_ == SynonymMode::kConceptTokens) return {ConceptToken(group)};
  return group;
}

std::string QueryBuilder::IndexedText(std::string_view text) const {
  const std::string spelled = SpellOutPainScores(text);
  std::string indexed;
  auto append = [&](const std::string& word) { indexed += (indexed.empty() ? "" : " ") + word; };
  for (const std::string_view clause : Clauses(spelled)) {
    const std::vector<std::string> words = Words(clause);
    std::size_t i = 0;
    while (i < words.size()) {
      const auto [group, length] =
          mode_ == SynonymMode::kConceptTokens ? GroupAt(words, i) : std::make_pair(nullptr, std::size_t{0});
      if (group == nullptr) {
        append(words[i++]);
        continue;
      }
      for (std::size_t k = 0; k < length; ++k) append(words[i + k]);
      append(ConceptToken(*group));
      i += length;
    }
  }
  return indexed;
}

std::vector<QueryTerm> QueryBuilder::Terms(std::string_view question) const {
  const std::string spelled = SpellOutPainScores(question);
  std::vector<QueryTerm> terms;
  // A concept named twice ("trainers or sneakers") counts once, or BM25 would score it twice.
  auto add = [&](QueryTerm term) {
    for (const auto& existing : terms) {
      for (const auto& alternative : term.alternatives) {
        if (std::find(existing.alternatives.begin(), existing.alternatives.end(), alternative) !=
            existing.alternatives.end()) {
          return;
        }
      }
    }
    terms.push_back(std::move(term));
  };
  auto append_new = [](QueryTerm& term, const std::vector<std::string>& alternatives) {
    for (const auto& alternative : alternatives) {
      if (std::find(term.alternatives.begin(), term.alternatives.end(), alternative) == term.alternatives.end()) {
        term.alternatives.push_back(alternative);
      }
    }
  };

  for (const std::string_view clause : Clauses(spelled)) {
    const std::vector<std::string> words = Words(clause);
    std::size_t i = 0;
    while (i < words.size()) {
      if (const auto [group, length] = GroupAt(words, i); group != nullptr) {
        std::string phrase = words[i];
        for (std::size_t k = 1; k < length; ++k) phrase += " " + words[i + k];
        QueryTerm term{phrase, {}};
        if (mode_ == SynonymMode::kQueryExpansion) term.alternatives.push_back(phrase);
        append_new(term, GroupAlternatives(*group));
        add(std::move(term));
        i += length;
        continue;
      }
      const std::string& word = words[i++];
      if (const auto* older = AgeGroup(words, i - 1); older != nullptr) {
        QueryTerm term{word, {}};
        append_new(term, GroupAlternatives(*older));
        add(std::move(term));
        continue;
      }
      if (word.size() < 2 || IsStopWord(word)) continue;
      // A bare number ("10 days", "3 times", "2 years") is a detail of the question, not its subject; numbers that
      // name something ("week 2", "couch to 5k", "10% rule") are synonym terms, matched above.
      if (std::all_of(word.begin(), word.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
      QueryTerm term{word, {word}};
      if (vocabulary_.count(word) == 0) {
        const std::string base = BaseForm(word);
        const std::string correction = base.empty() ? Correct(word) : base;
        if (!correction.empty()) {
          const auto* group = synonyms_.GroupOf(correction);
          if (group == nullptr || mode_ == SynonymMode::kQueryExpansion) term.alternatives.push_back(correction);
          if (group != nullptr) append_new(term, GroupAlternatives(*group));
        }
      }
      add(std::move(term));
    }
  }
  return terms;
}

std::string QueryBuilder::MatchExpression(const std::vector<QueryTerm>& terms) {
  std::string expression;
  for (const auto& term : terms) {
    if (!expression.empty()) expression += " OR ";
    expression += "(";
    for (std::size_t k = 0; k < term.alternatives.size(); ++k) {
      if (k > 0) expression += " OR ";
      expression += '"';
      for (char c : term.alternatives[k]) expression += c == '"' ? std::string("\"\"") : std::string(1, c);
      expression += '"';
    }
    expression += ")";
  }
  return expression;
}

}  // namespace coach::knowledge
