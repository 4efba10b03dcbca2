#include "knowledge/scope_check.h"

#include <algorithm>
#include <iterator>
#include <string_view>

namespace coach::knowledge {
namespace {

// Body parts the content does not treat. Not "leg" or "thigh": pain spreading down a leg is a back symptom
// (sciatica). Not "foot" or "heel": they come up in questions about shoes and running form.
constexpr std::string_view kOtherBodyParts[] = {
    "knee",     "knees",     "kneecap",  "kneecaps", "patella", "ankle", "ankles",  "shin",      "shins",
    "calf",     "calves",    "achilles", "quad",     "quads",   "groin", "neck",    "shoulder",  "shoulders",
    "wrist",    "wrists",    "elbow",    "elbows",   "toe",     "toes",  "plantar", "fasciitis", "itb",
    "itbs",     "chest",     "arm",      "arms",     "hand",    "hands", "finger",  "fingers",   "head",
    "headache", "headaches", "migraine", "jaw",      "tendon"};

// Hamstrings belong to the back's stretches ("tight hamstrings tug on the pelvis"); a strained hamstring is a
// leg injury.
constexpr std::string_view kHamstrings[] = {"hamstring", "hamstrings", "hammy", "hammies", "hammys"};
constexpr std::string_view kMuscleInjuries[] = {"strain", "strained", "pull",   "pulled", "tear",
                                                "torn",   "tweaked",  "injury", "injured"};

// Words that put a question inside the content's scope however many other body parts it names.
constexpr std::string_view kBackWords[] = {
    "back",     "backs",    "backache",  "backaches", "lower",      "spine",   "spinal",
    "lumbar",   "vertebra", "vertebrae", "disc",      "discs",      "disk",    "disks",
    "hip",      "hips",     "glute",     "glutes",    "gluteal",    "butt",    "bum",
    "buttock",  "buttocks", "core",      "abs",       "sciatica",   "sciatic", "pelvis",
    "pelvic",   "tailbone", "coccyx",    "sacrum",    "sacroiliac", "si",      "piriformis",
    "psoas",    "posture",  "l4",        "l5",        "s1",         "lumbago", "spondylolisthesis",
    "stenosis", "sij",      "qls"};

template <std::size_t N>
bool Contains(const std::string_view (&list)[N], const std::string& word) {
  return std::find(std::begin(list), std::end(list), word) != std::end(list);
}

}  // namespace

bool ScopeCheck::IsOtherBodyPart(const std::string& word) {
  return Contains(kOtherBodyParts, word);
}

bool ScopeCheck::IsBackWord(const std::string& word) {
  return Contains(kBackWords, word);
}

bool ScopeCheck::AboutOtherBodyPartOnly(const std::vector<std::string>& words) {
  const auto any = [&](auto predicate) { return std::any_of(words.begin(), words.end(), predicate); };
  const bool other = any([](const std::string& w) { return IsOtherBodyPart(w); }) ||
                     (any([](const std::string& w) { return Contains(kHamstrings, w); }) &&
                      any([](const std::string& w) { return Contains(kMuscleInjuries, w); }));
  return other && !any([](const std::string& w) { return IsBackWord(w); });
}

}  // namespace coach::knowledge
