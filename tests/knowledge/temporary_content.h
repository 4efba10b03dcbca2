#pragma once

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "knowledge/content.h"

namespace coach::knowledge::testing {

/// The small valid fixture (tests/knowledge/fixtures/valid) copied into a fresh temporary folder, so that a test
/// can break one file and load the rest; removed again on destruction.
class TemporaryContent {
 public:
  TemporaryContent() {
    static std::atomic<int> counter{0};
    std::random_device random;
    dir_ = std::filesystem::temp_directory_path() /
           ("coach-knowledge-" + std::to_string(random()) + "-" + std::to_string(counter++));
    std::filesystem::copy(FixtureDir(), dir_, std::filesystem::copy_options::recursive);
  }
  ~TemporaryContent() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  TemporaryContent(const TemporaryContent&) = delete;
  TemporaryContent& operator=(const TemporaryContent&) = delete;

  static std::filesystem::path FixtureDir() {
    return std::filesystem::path(COACH_SOURCE_DIR) / "tests/knowledge/fixtures/valid";
  }
  /// The rules the fixture follows: its three topics, eight questions each.
  static ContentRules Rules() {
    ContentRules rules;
    rules.topic_ids = {"shoes", "brace", "stretches"};
    rules.min_questions = 8;
    return rules;
  }

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path Write(const std::string& relative, const std::string& text) const {
    const auto path = dir_ / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::string Read(const std::string& relative) const {
    std::ifstream in(dir_ / relative, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  /// Replaces the first occurrence of `from` in a file; fails the test setup loudly if it is not there.
  void Replace(const std::string& relative, const std::string& from, const std::string& to) const {
    std::string text = Read(relative);
    const auto at = text.find(from);
    if (at == std::string::npos) throw std::logic_error("fixture " + relative + " has no '" + from + "'");
    Write(relative, text.replace(at, from.size(), to));
  }
  Content Load() const { return LoadContent(dir_, Rules()); }

 private:
  std::filesystem::path dir_;
};

}  // namespace coach::knowledge::testing
