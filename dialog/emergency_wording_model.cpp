#include "dialog/emergency_wording_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "dialog/seeded_order.h"

namespace coach::dialog {
namespace {

constexpr std::string_view kHeader = "emergency_wording_model v1";
constexpr std::string_view kNegatedPrefix = "NEG_";

std::uint64_t Fnv1a(std::string_view bytes) {
  std::uint64_t hash = 1469598103934665603ULL;
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

double Sigmoid(double z) {
  return 1.0 / (1.0 + std::exp(-z));
}

// Features are built in one reused buffer, so scoring a message allocates almost nothing.
template <typename Visit>
void VisitFeatures(const std::vector<std::string>& clause, std::string& buffer, Visit&& visit) {
  for (std::size_t index = 0; index < clause.size(); ++index) {
    const std::string& word = clause[index];
    buffer.assign("w:").append(word);
    visit(std::string_view(buffer));
    if (index + 1 < clause.size()) {
      buffer.assign("b:").append(word).append(" ").append(clause[index + 1]);
      visit(std::string_view(buffer));
    }
    // Character n-grams of the bare word, marked when negated: "numbnes" shares most of "numbness".
    const bool negated = word.compare(0, kNegatedPrefix.size(), kNegatedPrefix) == 0;
    const std::string_view bare = std::string_view(word).substr(negated ? kNegatedPrefix.size() : 0);
    const std::string padded = "<" + std::string(bare) + ">";
    for (std::size_t length = 3; length <= 5; ++length) {
      for (std::size_t begin = 0; begin + length <= padded.size(); ++begin) {
        buffer.assign(negated ? "n:" : "c:").append(padded, begin, length);
        visit(std::string_view(buffer));
      }
    }
  }
}

}  // namespace

EmergencyWordingModel EmergencyWordingModel::Train(const std::vector<WordingExample>& examples,
                                                   const TrainingOptions& options) {
  EmergencyWordingModel model;
  // Each message becomes the set of its feature hashes (presence, not counts: a long ramble is not more urgent).
  std::vector<std::vector<std::uint64_t>> features(examples.size());
  std::unordered_map<std::uint64_t, int> document_count;
  std::unordered_map<std::uint64_t, std::string> names;
  for (std::size_t i = 0; i < examples.size(); ++i) {
    std::string buffer;
    for (const auto& clause : examples[i].clauses) {
      VisitFeatures(clause, buffer, [&](std::string_view feature) {
        const std::uint64_t hash = Fnv1a(feature);
        features[i].push_back(hash);
        if (names.find(hash) == names.end()) names.emplace(hash, std::string(feature));
      });
    }
    std::sort(features[i].begin(), features[i].end());
    features[i].erase(std::unique(features[i].begin(), features[i].end()), features[i].end());
    for (const std::uint64_t hash : features[i]) ++document_count[hash];
  }
  std::unordered_map<std::uint64_t, std::size_t> index_of;
  std::vector<std::uint64_t> hashes;
  for (const auto& [hash, count] : document_count) {
    if (count >= options.min_feature_count) {
      index_of.emplace(hash, hashes.size());
      hashes.push_back(hash);
    }
  }
  // Dense indices in a fixed order (sorted hashes), so training does not depend on hash-map iteration order.
  std::sort(hashes.begin(), hashes.end());
  for (std::size_t i = 0; i < hashes.size(); ++i) index_of[hashes[i]] = i;
  std::vector<std::vector<std::size_t>> active(examples.size());
  for (std::size_t i = 0; i < examples.size(); ++i) {
    for (const std::uint64_t hash : features[i]) {
      if (const auto found = index_of.find(hash); found != index_of.end()) active[i].push_back(found->second);
    }
  }

  std::vector<double> weights(hashes.size(), 0.0);
  double bias = 0.0;
  std::vector<std::size_t> order(examples.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  SeededOrder shuffle{options.seed};
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    shuffle.Shuffle(order);
    const double rate = options.learning_rate / (1.0 + 0.2 * epoch);
    for (const std::size_t i : order) {
      if (active[i].empty()) continue;
      const double value = 1.0 / std::sqrt(static_cast<double>(features[i].size()));
      double z = bias;
      for (const std::size_t feature : active[i]) z += weights[feature] * value;
      const double gradient = Sigmoid(z) - (examples[i].emergency ? 1.0 : 0.0);
      for (const std::size_t feature : active[i]) {
        weights[feature] -= rate * (gradient * value + options.l2 * weights[feature]);
      }
      bias -= rate * gradient;
    }
  }
  model.bias_ = bias;
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    model.weights_.emplace(hashes[i], static_cast<float>(weights[i]));
    model.names_.emplace(hashes[i], names[hashes[i]]);
  }
  return model;
}

EmergencyWordingModel EmergencyWordingModel::FromText(std::string_view text) {
  EmergencyWordingModel model;
  std::istringstream in{std::string(text)};
  std::string line;
  if (!std::getline(in, line) || line.compare(0, kHeader.size(), kHeader) != 0) {
    throw std::invalid_argument("wording model: the first line must start with \"" + std::string(kHeader) + "\"");
  }
  std::istringstream header(line.substr(kHeader.size()));
  std::string field;
  bool has_threshold = false;
  bool has_bias = false;
  while (header >> field) {
    const auto equals = field.find('=');
    if (equals == std::string::npos) continue;
    const std::string key = field.substr(0, equals);
    const std::string value = field.substr(equals + 1);
    try {
      if (key == "threshold") {
        model.threshold_ = std::stod(value);
        has_threshold = true;
      } else if (key == "bias") {
        model.bias_ = std::stod(value);
        has_bias = true;
      }
    } catch (const std::exception&) {
      throw std::invalid_argument("wording model: header field " + field + " is not a number");
    }
  }
  if (!has_threshold || !has_bias) throw std::invalid_argument("wording model: the header needs threshold= and bias=");
  for (int number = 2; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    const auto tab = line.rfind('\t');
    char* end = nullptr;
    const float weight = tab == std::string::npos ? 0.0f : std::strtof(line.c_str() + tab + 1, &end);
    if (tab == std::string::npos || tab == 0 || end == line.c_str() + tab + 1 || *end != '\0') {
      throw std::invalid_argument("wording model: line " + std::to_string(number) + ": expected feature<TAB>weight");
    }
    const std::string name = line.substr(0, tab);
    model.weights_[Fnv1a(name)] = weight;
    model.names_[Fnv1a(name)] = name;
  }
  return model;
}

std::string EmergencyWordingModel::ToText(double min_weight) const {
  std::vector<std::pair<std::string, float>> rows;
  for (const auto& [hash, weight] : weights_) {
    if (std::fabs(weight) >= min_weight) rows.emplace_back(names_.at(hash), weight);
  }
  std::sort(rows.begin(), rows.end());
  std::ostringstream out;
  char number[32];
  std::snprintf(number, sizeof number, "%.6g", threshold_);
  out << kHeader << " threshold=" << number;
  std::snprintf(number, sizeof number, "%.6g", bias_);
  out << " bias=" << number << "\n";
  for (const auto& [name, weight] : rows) {
    std::snprintf(number, sizeof number, "%.4g", static_cast<double>(weight));
    out << name << '\t' << number << '\n';
  }
  return out.str();
}

double EmergencyWordingModel::ClauseSum(const std::vector<std::string>& clause, std::size_t* feature_count) const {
  double sum = 0.0;
  std::string buffer;
  VisitFeatures(clause, buffer, [&](std::string_view feature) {
    ++*feature_count;
    if (const auto found = weights_.find(Fnv1a(feature)); found != weights_.end()) sum += found->second;
  });
  return sum;
}

double EmergencyWordingModel::Probability(const MarkedClauses& clauses) const {
  // Distinct features, scaled by 1/sqrt(count), exactly as in training.
  std::vector<std::uint64_t> hashes;
  std::string buffer;
  for (const auto& clause : clauses) {
    VisitFeatures(clause, buffer, [&](std::string_view feature) { hashes.push_back(Fnv1a(feature)); });
  }
  std::sort(hashes.begin(), hashes.end());
  hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
  if (hashes.empty()) return Sigmoid(bias_);
  double sum = 0.0;
  for (const std::uint64_t hash : hashes) {
    if (const auto found = weights_.find(hash); found != weights_.end()) sum += found->second;
  }
  return Sigmoid(bias_ + sum / std::sqrt(static_cast<double>(hashes.size())));
}

std::size_t EmergencyWordingModel::StrongestClause(const MarkedClauses& clauses) const {
  std::size_t strongest = 0;
  double best = 0.0;
  for (std::size_t index = 0; index < clauses.size(); ++index) {
    std::size_t count = 0;
    const double sum = ClauseSum(clauses[index], &count);
    if (index == 0 || sum > best) {
      strongest = index;
      best = sum;
    }
  }
  return strongest;
}

}  // namespace coach::dialog
