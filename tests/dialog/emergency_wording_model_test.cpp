#include "dialog/emergency_wording_model.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "dialog/red_flag_detector.h"
#include "labelled_messages.h"

using coach::dialog::EmergencyWordingModel;
using coach::dialog::MarkedClauses;
using coach::dialog::RedFlagDetector;
using coach::dialog::TriageLevel;
using coach::dialog::WordingExample;

namespace {

const RedFlagDetector& RulesOnly() {
  static const RedFlagDetector detector = RedFlagDetector::FromRulesJson(RedFlagDetector::EmbeddedRulesJson());
  return detector;
}

struct Labelled {
  std::string text;
  TriageLevel level;
  bool negated;
  std::string set;
  MarkedClauses clauses;
  TriageLevel rules_level;
  bool rules_flagged;
};

std::vector<Labelled> LoadSets(const std::vector<std::string>& names) {
  std::vector<Labelled> rows;
  for (const std::string& name : names) {
    for (auto& message : coach::testing::LoadLabelledMessages("tests/data/" + name + ".jsonl")) {
      const auto decision = RulesOnly().Assess(message.text);
      auto clauses = RulesOnly().MarkClauses(message.text);
      rows.push_back({std::move(message.text), message.level, message.negated, name, std::move(clauses), decision.level,
                      !decision.flags.empty()});
    }
  }
  return rows;
}

struct Figures {
  int total = 0, exact = 0, emergencies = 0, found = 0, negated = 0, false_on_negated = 0, raised_wrongly = 0;
  void Add(const Labelled& row, TriageLevel decided, bool negated_false_flag) {
    ++total;
    exact += decided == row.level;
    if (row.level == TriageLevel::emergency) {
      ++emergencies;
      found += decided == TriageLevel::emergency;
    }
    if (row.negated) {
      ++negated;
      false_on_negated += negated_false_flag;
    }
    raised_wrongly += decided == TriageLevel::emergency && row.level != TriageLevel::emergency;
  }
  std::string Line() const {
    std::ostringstream out;
    out << "exact " << exact << "/" << total << ", emergency recall " << found << "/" << emergencies
        << ", false flags on negated " << false_on_negated << "/" << negated << ", wrongly raised to emergency "
        << raised_wrongly;
    return out.str();
  }
};

}  // namespace

TEST_CASE("marked clauses: words in a negation scope carry NEG_, clauses split like the rules", "[wording_model]") {
  CHECK(RulesOnly().MarkClauses("no numbness") == MarkedClauses{{"no", "NEG_numbness"}});
  CHECK(RulesOnly().MarkClauses("not numb exactly, but my toes tingle") ==
        MarkedClauses{{"not", "NEG_numb", "NEG_exactly"}, {"my", "toes", "tingle"}});
  CHECK(RulesOnly().MarkClauses("I can’t feel it when I wipe!") ==
        MarkedClauses{{"i", "cant", "feel", "it", "when", "i", "wipe"}});
  CHECK(RulesOnly().MarkClauses("").empty());
}

TEST_CASE("the wording model learns from examples and round-trips through its text form", "[wording_model]") {
  std::vector<WordingExample> examples;
  for (int i = 0; i < 20; ++i) {
    examples.push_back({RulesOnly().MarkClauses("my saddle area feels numb"), true});
    examples.push_back({RulesOnly().MarkClauses("no numbness in my saddle area, back stiff"), false});
    examples.push_back({RulesOnly().MarkClauses("my back is stiff after a long run"), false});
  }
  auto model = EmergencyWordingModel::Train(examples, {});
  model.set_threshold(0.5);
  const auto numb = RulesOnly().MarkClauses("saddle area numb");
  const auto denied = RulesOnly().MarkClauses("no numbness in the saddle area");
  CHECK(model.Probability(numb) > 0.7);
  CHECK(model.Probability(denied) < 0.3);
  CHECK(model.Probability(RulesOnly().MarkClauses("stiff back")) < 0.3);
  CHECK(model.StrongestClause(RulesOnly().MarkClauses("back stiff after a long run. saddle area numb")) == 1);

  const auto copy = EmergencyWordingModel::FromText(model.ToText());
  CHECK(copy.threshold() == Approx(0.5));
  CHECK(copy.feature_count() == model.feature_count());
  CHECK(copy.Probability(numb) == Approx(model.Probability(numb)).epsilon(1e-3));
  CHECK(copy.Probability(denied) == Approx(model.Probability(denied)).epsilon(1e-3));
}

TEST_CASE("a malformed wording model is rejected", "[wording_model]") {
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(EmergencyWordingModel::FromText("weights\n"), Contains("first line"));
  CHECK_THROWS_WITH(EmergencyWordingModel::FromText("emergency_wording_model v1 bias=0\n"), Contains("threshold"));
  CHECK_THROWS_WITH(EmergencyWordingModel::FromText("emergency_wording_model v1 threshold=0.9 bias=0\nw:numb\n"),
                    Contains("line 2"));
  CHECK_THROWS_WITH(EmergencyWordingModel::FromText("emergency_wording_model v1 threshold=0.9 bias=0\nw:numb\tx\n"),
                    Contains("line 2"));
  CHECK_NOTHROW(EmergencyWordingModel::FromText(RedFlagDetector::EmbeddedWordingModelText()));
}

TEST_CASE("the model only raises, names itself in the evidence, and needs a described symptom", "[wording_model]") {
  std::vector<WordingExample> examples;
  for (int i = 0; i < 20; ++i) {
    examples.push_back({RulesOnly().MarkClauses("the zorblat feeling is back again"), true});
    examples.push_back({RulesOnly().MarkClauses("my back is stiff after a long run"), false});
  }
  auto model = EmergencyWordingModel::Train(examples, {});
  model.set_threshold(0.6);
  const auto detector =
      RedFlagDetector::FromRulesJson(RedFlagDetector::EmbeddedRulesJson()).WithWordingModel(std::move(model));
  const auto raised = detector.Assess("back aches. the zorblat feeling is back again");
  CHECK(raised.level == TriageLevel::emergency);
  REQUIRE(raised.flags.size() == raised.evidence.size());
  REQUIRE_FALSE(raised.flags.empty());
  CHECK(raised.flags.front() == "emergency_wording_model");
  CHECK_THAT(raised.evidence.front(), Catch::Matchers::StartsWith("model: emergency-like wording, p=0.") &&
                                          Catch::Matchers::EndsWith(": the zorblat feeling is back again"));
  // No symptom described: wording alone never makes an emergency.
  CHECK(detector.Assess("the zorblat feeling is back again").level == TriageLevel::not_pain);
  // No symptom word, but a body part, toilet or sex word named and affirmed: the model reads it.
  CHECK(detector.Assess("going to the loo, the zorblat feeling is back again").level == TriageLevel::emergency);
  CHECK(detector.Assess("my groin has the zorblat feeling back again").level == TriageLevel::emergency);
  // Denied, or inside a general question, the gate word opens nothing.
  CHECK(detector.Assess("nothing wrong with my bladder, the zorblat feeling is back again").level ==
        TriageLevel::not_pain);
  CHECK(detector.Assess("how often should runners go to the loo? the zorblat feeling is back again").level ==
        TriageLevel::not_pain);
  // Under six words the n-grams have too little to go on: the rules alone decide.
  CHECK(detector.Assess("back aches, zorblat feeling").level == TriageLevel::self_care);
  // A rule decision is never lowered.
  CHECK(detector.Assess("my bum is numb").level == TriageLevel::emergency);
  CHECK(detector.Assess("pain shooting down my left leg").level >= TriageLevel::see_professional);
}

// Leave-one-set-out: every held-out file is predicted by a model trained on all the other files, and the triage
// set by models trained without its fifth (5 interleaved folds). The rules were tuned on all of these sets, so
// the rules-only figures are training figures; the model's contribution is the honest part.
TEST_CASE("wording model: leave-one-set-out figures with and without the model", "[wording_model][loso]") {
  const std::vector<std::string> held_out_sets = {
      "triage_holdout",        "triage_holdout_fresh",  "triage_holdout_fresh2", "triage_holdout_fresh3",
      "triage_holdout_fresh4", "triage_holdout_fresh5", "triage_holdout_fresh6", "triage_holdout_fresh7",
      "triage_holdout_fresh8", "triage_holdout_fresh9", "triage_holdout_fresh10"};
  std::vector<std::string> all_sets = held_out_sets;
  all_sets.push_back("triage_set");
  const auto rows = LoadSets(all_sets);
  constexpr int kTriageSetFolds = 5;
  const auto fold_of = [&](std::size_t index) {
    const auto& row = rows[index];
    if (row.set != "triage_set") return row.set;
    return "triage_set/" + std::to_string(index % kTriageSetFolds);
  };
  std::vector<std::string> folds;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (std::find(folds.begin(), folds.end(), fold_of(i)) == folds.end()) folds.push_back(fold_of(i));
  }
  const double threshold = EmergencyWordingModel::FromText(RedFlagDetector::EmbeddedWordingModelText()).threshold();
  const std::vector<double> sweep = {0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95};

  std::vector<double> probability(rows.size(), 0.0);
  std::vector<TriageLevel> with_model(rows.size(), TriageLevel::not_pain);
  std::vector<bool> negated_false_flag(rows.size(), false);
  auto detector = RedFlagDetector::FromRulesJson(RedFlagDetector::EmbeddedRulesJson());
  for (const std::string& fold : folds) {
    std::set<std::string> held_out_texts;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (fold_of(i) == fold) held_out_texts.insert(rows[i].text);
    }
    std::vector<WordingExample> training;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      // A sentence copied into another set would leak the answer.
      if (held_out_texts.count(rows[i].text) == 0) {
        training.push_back({rows[i].clauses, rows[i].level == TriageLevel::emergency});
      }
    }
    auto model = EmergencyWordingModel::Train(training, {});
    model.set_threshold(threshold);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (fold_of(i) == fold) probability[i] = model.Probability(rows[i].clauses);
    }
    detector = std::move(detector).WithWordingModel(std::move(model));
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (fold_of(i) != fold) continue;
      const auto decision = detector.Assess(rows[i].text);
      with_model[i] = decision.level;
      negated_false_flag[i] = rows[i].negated && decision.level > rows[i].level && !decision.flags.empty();
    }
  }

  std::ostringstream report;
  report << "wording model, leave-one-set-out (threshold " << threshold << "):\n";
  std::map<std::string, std::pair<Figures, Figures>> per_set;  // set -> (rules only, rules + model)
  Figures rules_pooled, model_pooled, fresh_rules, fresh_model;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    const bool rules_false_flag = row.negated && row.rules_level > row.level && row.rules_flagged;
    per_set[row.set].first.Add(row, row.rules_level, rules_false_flag);
    per_set[row.set].second.Add(row, with_model[i], negated_false_flag[i]);
    rules_pooled.Add(row, row.rules_level, rules_false_flag);
    model_pooled.Add(row, with_model[i], negated_false_flag[i]);
    if (row.set != "triage_set") {
      fresh_rules.Add(row, row.rules_level, rules_false_flag);
      fresh_model.Add(row, with_model[i], negated_false_flag[i]);
    }
  }
  for (const auto& [set, figures] : per_set) {
    report << "  " << set << "\n    rules only:   " << figures.first.Line()
           << "\n    rules + model: " << figures.second.Line() << "\n";
  }
  report << "  all held-out files pooled\n    rules only:   " << fresh_rules.Line()
         << "\n    rules + model: " << fresh_model.Line() << "\n";
  report << "  everything pooled\n    rules only:   " << rules_pooled.Line()
         << "\n    rules + model: " << model_pooled.Line() << "\n";
  // What other thresholds would do, with the same gate as the detector (a symptom described, rules below emergency).
  report << "  threshold sweep over all out-of-fold predictions (emergencies gained / non-emergencies raised / "
            "negated raised):\n";
  for (const double t : sweep) {
    int gained = 0, raised = 0, negated_raised = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& row = rows[i];
      if (row.rules_level < TriageLevel::self_care || row.rules_level == TriageLevel::emergency) continue;
      if (probability[i] < t) continue;
      if (row.level == TriageLevel::emergency) {
        ++gained;
      } else {
        ++raised;
        negated_raised += row.negated;
      }
    }
    report << "    p >= " << t << ": " << gained << " / " << raised << " / " << negated_raised << "\n";
  }
  report << "  model alone, out of fold (emergencies with p >= t / non-emergencies with p >= t / negated "
            "non-emergencies with p >= t):\n";
  for (const double t : sweep) {
    int emergencies = 0, others = 0, negated_others = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (probability[i] < t) continue;
      if (rows[i].level == TriageLevel::emergency) {
        ++emergencies;
      } else {
        ++others;
        negated_others += rows[i].negated;
      }
    }
    report << "    p >= " << t << ": " << emergencies << "/" << model_pooled.emergencies << " / " << others << "/"
           << model_pooled.total - model_pooled.emergencies << " / " << negated_others << "\n";
  }
  report << "  gate open (rules self_care to urgent) and p >= " << sweep.front() << ":\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    if (row.rules_level < TriageLevel::self_care || row.rules_level == TriageLevel::emergency) continue;
    if (probability[i] < sweep.front()) continue;
    char p[16];
    std::snprintf(p, sizeof p, "%.2f", probability[i]);
    report << "    p=" << p << " " << ToString(row.level) << (row.negated ? " (negated)" : "") << " [" << row.set
           << "] " << row.text << "\n";
  }
  // Messages the rules call not_pain reach the model only through the gate words (a body part, a toilet or sex
  // word): every one it raised, right or wrong, is listed.
  int not_pain_gained = 0, not_pain_raised_wrongly = 0;
  report << "  raised from not_pain (through the gate words):\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    if (row.rules_level != TriageLevel::not_pain || with_model[i] != TriageLevel::emergency) continue;
    const bool right = row.level == TriageLevel::emergency;
    (right ? not_pain_gained : not_pain_raised_wrongly) += 1;
    char p[16];
    std::snprintf(p, sizeof p, "%.2f", probability[i]);
    report << "    " << (right ? "gained" : "WRONG") << " [" << row.set << "] p=" << p << " " << ToString(row.level)
           << (row.negated ? " (negated)" : "") << ": " << row.text << "\n";
  }
  report << "    " << not_pain_gained << " emergencies gained, " << not_pain_raised_wrongly
         << " non-emergencies raised\n";
  // The margin of the wider gate: every message the rules call not_pain, gate word or not, by its out-of-fold p.
  report << "  rules not_pain, out of fold (emergencies / non-emergencies / negated non-emergencies with p >= t):\n";
  for (const double t : sweep) {
    int emergencies = 0, others = 0, negated_others = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (rows[i].rules_level != TriageLevel::not_pain || probability[i] < t) continue;
      if (rows[i].level == TriageLevel::emergency) {
        ++emergencies;
      } else {
        ++others;
        negated_others += rows[i].negated;
      }
    }
    report << "    p >= " << t << ": " << emergencies << " / " << others << " / " << negated_others << "\n";
  }
  report << "  misses and wrong raises with the model:\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    const bool missed = row.level == TriageLevel::emergency && with_model[i] != TriageLevel::emergency;
    const bool wrong = row.level != TriageLevel::emergency && with_model[i] == TriageLevel::emergency &&
                       row.rules_level != TriageLevel::emergency;
    if (!missed && !wrong) continue;
    char p[16];
    std::snprintf(p, sizeof p, "%.2f", probability[i]);
    report << "    " << (missed ? "missed" : "raised") << " [" << row.set << "] p=" << p << " " << row.text << "\n";
  }
  std::cout << report.str() << std::flush;

  // The model only raises: recall can only grow, and nothing below emergency may turn into a false negated flag.
  REQUIRE(model_pooled.found >= rules_pooled.found);
  REQUIRE(model_pooled.false_on_negated == rules_pooled.false_on_negated);
}
