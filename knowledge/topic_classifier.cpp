#include "knowledge/topic_classifier.h"

#include <algorithm>
#include <cmath>

#include "dialog/seeded_order.h"

namespace coach::knowledge {
namespace {

std::uint64_t Fnv1a(std::string_view bytes, std::uint64_t hash = 1469598103934665603ULL) {
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

// A feature is a kind prefix plus one or two strings; hashing the parts avoids building a string per feature.
std::uint64_t FeatureHash(char kind, std::string_view first, std::string_view second = {}) {
  std::uint64_t hash = Fnv1a(std::string_view(&kind, 1));
  hash = Fnv1a(first, hash);
  if (!second.empty()) hash = Fnv1a(second, Fnv1a(" ", hash));
  return hash;
}

using dialog::SeededOrder;

// The body's sentences and list lines: each says something about its topic in the topic's own words.
std::vector<std::string> Sentences(const std::string& body) {
  std::vector<std::string> sentences;
  std::string current;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    const bool sentence_end = (c == '.' || c == '!' || c == '?') && (i + 1 == body.size() || body[i + 1] == ' ');
    if (c == '\n' || sentence_end) {
      if (QueryBuilder::Words(current).size() >= 3) sentences.push_back(current);
      current.clear();
      continue;
    }
    current += c;
  }
  if (QueryBuilder::Words(current).size() >= 3) sentences.push_back(current);
  return sentences;
}

// The flat table marks an empty slot with 0.
std::uint64_t StoredHash(std::uint64_t hash) {
  return hash == 0 ? 1 : hash;
}

void Softmax(std::vector<double>& scores) {
  const double top = *std::max_element(scores.begin(), scores.end());
  double sum = 0;
  for (double& score : scores) {
    score = std::exp(score - top);
    sum += score;
  }
  for (double& score : scores) score /= sum;
}

}  // namespace

TopicClassifier::TopicClassifier(const Content& content, const QueryBuilder& query_builder, const TextSpeak& text_speak)
    : TopicClassifier(content, query_builder, text_speak, TrainingOptions{}) {}

TopicClassifier::TopicClassifier(const Content& content, const QueryBuilder& query_builder, const TextSpeak& text_speak,
                                 const TrainingOptions& options)
    : query_builder_(query_builder), text_speak_(text_speak) {
  struct Example {
    std::vector<std::uint32_t> rows;
    std::size_t topic = 0;
    double weight = 1;
  };
  std::vector<std::vector<std::uint64_t>> hashes;
  std::vector<std::size_t> topics;
  std::vector<double> example_weights;
  for (std::size_t t = 0; t < content.topics.size(); ++t) {
    const Topic& topic = content.topics[t];
    topic_ids_.push_back(topic.id);
    const auto add = [&](const std::string& text, double weight) {
      auto features = FeatureHashes(text);
      if (features.empty() || weight <= 0) return;
      hashes.push_back(std::move(features));
      topics.push_back(t);
      example_weights.push_back(weight);
    };
    for (const auto& question : topic.questions) add(question, 1.0);
    std::string tags;
    for (const auto& tag : topic.tags) tags += tag + ", ";
    add(topic.title, options.content_example_weight);
    add(tags, options.content_example_weight);
    add(topic.summary, options.content_example_weight);
    for (const auto& sentence : Sentences(topic.body)) add(sentence, options.content_example_weight);
  }
  // Rows in the order of the sorted hashes, so that training does not depend on hash-map iteration order.
  std::vector<std::uint64_t> all;
  for (const auto& features : hashes) all.insert(all.end(), features.begin(), features.end());
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  feature_count_ = all.size();
  std::size_t slots = 16;
  while (slots < 2 * all.size()) slots *= 2;
  table_hashes_.assign(slots, 0);
  table_rows_.assign(slots, 0);
  for (std::size_t i = 0; i < all.size(); ++i) {
    const std::uint64_t key = StoredHash(all[i]);
    std::size_t slot = key & (slots - 1);
    while (table_hashes_[slot] != 0) slot = (slot + 1) & (slots - 1);
    table_hashes_[slot] = key;
    table_rows_[slot] = static_cast<std::uint32_t>(i);
  }
  std::vector<Example> examples;
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    Example example{{}, topics[i], example_weights[i]};
    for (const std::uint64_t hash : hashes[i]) example.rows.push_back(static_cast<std::uint32_t>(RowOf(hash)));
    examples.push_back(std::move(example));
  }

  const std::size_t classes = topic_ids_.size();
  std::vector<double> weights(all.size() * classes, 0.0);
  bias_.assign(classes, 0.0);
  std::vector<std::size_t> order(examples.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  SeededOrder shuffle{options.seed};
  std::vector<double> scores(classes);
  std::vector<double> gradients(classes);
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    shuffle.Shuffle(order);
    const double rate = options.learning_rate / (1.0 + 0.2 * epoch);
    for (const std::size_t i : order) {
      const Example& example = examples[i];
      // Presence, not counts, scaled so that a long sentence does not outweigh a short question.
      const double value = 1.0 / std::sqrt(static_cast<double>(example.rows.size()));
      scores = bias_;
      for (const std::uint32_t row : example.rows) {
        const double* w = &weights[row * classes];
        for (std::size_t k = 0; k < classes; ++k) scores[k] += w[k] * value;
      }
      Softmax(scores);
      for (std::size_t k = 0; k < classes; ++k) {
        gradients[k] = example.weight * (scores[k] - (k == example.topic ? 1.0 : 0.0));
        bias_[k] -= rate * gradients[k];
      }
      // Row by row, so that the inner loop runs over one feature's contiguous weights.
      for (const std::uint32_t row : example.rows) {
        double* w = &weights[row * classes];
        for (std::size_t k = 0; k < classes; ++k) w[k] -= rate * (gradients[k] * value + options.l2 * w[k]);
      }
    }
  }
  weights_.assign(weights.begin(), weights.end());
}

std::int64_t TopicClassifier::RowOf(std::uint64_t hash) const {
  if (table_hashes_.empty()) return -1;
  const std::uint64_t key = StoredHash(hash);
  const std::size_t mask = table_hashes_.size() - 1;
  for (std::size_t slot = key & mask;; slot = (slot + 1) & mask) {
    if (table_hashes_[slot] == key) return table_rows_[slot];
    if (table_hashes_[slot] == 0) return -1;
  }
}

std::vector<std::uint64_t> TopicClassifier::FeatureHashes(std::string_view question) const {
  return NormalisedFeatureHashes(text_speak_.Normalise(question));
}

std::vector<std::uint64_t> TopicClassifier::NormalisedFeatureHashes(std::string_view text) const {
  std::vector<std::uint64_t> features;
  features.reserve(256);
  // Every word and word pair, stop words included: BM25 must ignore "what gives", "how long", "when should", but
  // which topic a question asks for is often in exactly those words.
  const std::vector<std::string> words = QueryBuilder::Words(text);
  std::string padded;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i + 1 < words.size()) features.push_back(FeatureHash('b', words[i], words[i + 1]));
    if (QueryBuilder::IsStopWord(words[i])) continue;
    // Character n-grams of the content words: "stretching" shares most of "stretches", "hamstrings" of "hamstring".
    padded.assign("<").append(words[i]).append(">");
    for (std::size_t length = 3; length <= 5; ++length) {
      for (std::size_t begin = 0; begin + length <= padded.size(); ++begin) {
        features.push_back(FeatureHash('c', std::string_view(padded).substr(begin, length)));
      }
    }
  }
  // The words as the index stores them: each synonym followed by its group's concept token ("trainers synshoes").
  for (const std::string& word : QueryBuilder::Words(query_builder_.IndexedText(text))) {
    features.push_back(FeatureHash('w', word));
  }
  std::sort(features.begin(), features.end());
  features.erase(std::unique(features.begin(), features.end()), features.end());
  return features;
}

std::vector<double> TopicClassifier::Probabilities(std::string_view question) const {
  const std::size_t classes = topic_ids_.size();
  std::vector<double> scores = bias_;
  std::vector<std::uint32_t> rows;
  for (const std::uint64_t hash : FeatureHashes(question)) {
    if (const std::int64_t row = RowOf(hash); row >= 0) rows.push_back(static_cast<std::uint32_t>(row));
  }
  if (rows.empty() || classes == 0) return std::vector<double>(classes, classes == 0 ? 0.0 : 1.0 / classes);
  // Scaled by the known features only, as every feature of a training example was known.
  const double value = 1.0 / std::sqrt(static_cast<double>(rows.size()));
  for (const std::uint32_t row : rows) {
    const float* w = &weights_[static_cast<std::size_t>(row) * classes];
    for (std::size_t k = 0; k < classes; ++k) scores[k] += w[k] * value;
  }
  Softmax(scores);
  return scores;
}

}  // namespace coach::knowledge
