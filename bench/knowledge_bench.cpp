// Google Benchmark for coach::knowledge on the real content: one question against the whole FTS5 index (what every
// free question costs), and building the index and loading the content (what a server start costs).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "knowledge/knowledge_base.h"

namespace {

std::string ContentDir() {
  const char* configured = std::getenv("COACHBOT_CONTENT");
  return configured != nullptr ? configured : std::string(COACH_SOURCE_DIR) + "/content";
}

const coach::knowledge::Content& SharedContent() {
  static const coach::knowledge::Content content = coach::knowledge::LoadContent(ContentDir());
  return content;
}

// A realistic mix: the questions of the tuning set, on-topic and off-topic alike.
const std::vector<std::string>& Questions() {
  static const std::vector<std::string> questions = [] {
    std::vector<std::string> loaded;
    std::ifstream in(std::string(COACH_SOURCE_DIR) + "/tests/data/faq_set.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) loaded.push_back(nlohmann::json::parse(line).at("text").get<std::string>());
    }
    if (loaded.empty()) loaded.push_back("can worn out trainers give me back pain?");
    return loaded;
  }();
  return questions;
}

void BM_AnswerOneQuestion(benchmark::State& state) {
  const coach::knowledge::KnowledgeBase knowledge(SharedContent());
  const auto& questions = Questions();
  std::size_t next = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(knowledge.Answer(questions[next]));
    next = (next + 1) % questions.size();
  }
  state.SetLabel(std::to_string(questions.size()) + " questions in rotation");
}
BENCHMARK(BM_AnswerOneQuestion)->Unit(benchmark::kMicrosecond);

void BM_SearchOneQuestion(benchmark::State& state) {
  const coach::knowledge::KnowledgeIndex index(SharedContent());
  const auto& questions = Questions();
  std::size_t next = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(index.Search(questions[next], 2));
    next = (next + 1) % questions.size();
  }
}
BENCHMARK(BM_SearchOneQuestion)->Unit(benchmark::kMicrosecond);

void BM_BuildIndex(benchmark::State& state) {
  const auto& content = SharedContent();
  for (auto _ : state) {
    const coach::knowledge::KnowledgeIndex index(content);
    benchmark::DoNotOptimize(index.topic_count());
  }
}
BENCHMARK(BM_BuildIndex)->Unit(benchmark::kMillisecond);

void BM_LoadContentAndBuildIndex(benchmark::State& state) {
  const std::string dir = ContentDir();
  for (auto _ : state) {
    const auto knowledge = coach::knowledge::KnowledgeBase::FromDirectory(dir);
    benchmark::DoNotOptimize(knowledge.get());
  }
}
BENCHMARK(BM_LoadContentAndBuildIndex)->Unit(benchmark::kMillisecond);

}  // namespace
