#include "knowledge/scope_check.h"

#include <algorithm>
#include <iterator>
#include <string_view>

#include "knowledge/query_builder.h"

namespace coach::knowledge {
namespace {

// Body parts the content does not treat. Not "leg" or "thigh": pain spreading down a leg is a back symptom
// (sciatica). Not "foot" or "heel": they come up in questions about shoes and running form.
constexpr std::string_view kOtherBodyParts[] = {
    "knee", "knees",  "kneecap",  "kneecaps",  "patella", "ankle",   "ankles",     "shin",       "shins",
    "calf", "calves", "achilles", "quad",      "quads",   "groin",   "neck",       "wrist",      "wrists",
    "toe",  "toes",   "plantar",  "fasciitis", "itb",     "itbs",    "headache",   "headaches",  "migraine",
    "jaw",  "tendon", "lung",     "lungs",     "bunion",  "bunions", "metatarsal", "metatarsals"};

// The upper body as running form describes it ("my shoulders hunch", "arms swing across my body", "keep your head
// up") or foam rolling reaches it ("roll up to your ribs"): another injury only when the question says it hurts.
constexpr std::string_view kFormBodyParts[] = {"shoulder", "shoulders", "arm",    "arms",  "hand",
                                               "hands",    "elbow",     "elbows", "chest", "head",
                                               "finger",   "fingers",   "rib",    "ribs",  "ribcage"};

// Hamstrings belong to the back's stretches ("tight hamstrings tug on the pelvis"); a strained hamstring is a
// leg injury.
constexpr std::string_view kHamstrings[] = {"hamstring", "hamstrings", "hammy", "hammies", "hammys"};
constexpr std::string_view kMuscleInjuries[] = {"strain", "strained", "pull",   "pulled", "tear",
                                                "torn",   "tweaked",  "injury", "injured"};

// Feet come up in the shoes and form topics ("flat feet", "heel striking"); a foot that hurts is a foot injury.
constexpr std::string_view kFeet[] = {"foot", "feet", "arch", "arches", "heel", "heels", "sole", "soles"};
constexpr std::string_view kNumbnessWords[] = {"numb", "numbness", "tingling", "tingle", "tingly", "tingles"};
constexpr std::string_view kPainWords[] = {"hurt",  "hurts",  "hurting", "pain",   "painful", "sore",   "ache",
                                           "aches", "aching", "achy",    "injury", "injured", "strain", "strained"};

// Words that put a question inside the content's scope however many other body parts it names.
constexpr std::string_view kBackWords[] = {"back",
                                           "backs",
                                           "backache",
                                           "backaches",
                                           "lower",
                                           "spine",
                                           "spinal",
                                           "lumbar",
                                           "vertebra",
                                           "vertebrae",
                                           "disc",
                                           "discs",
                                           "disk",
                                           "disks",
                                           "hip",
                                           "hips",
                                           "glute",
                                           "glutes",
                                           "gluteal",
                                           "butt",
                                           "bum",
                                           "buttock",
                                           "buttocks",
                                           "core",
                                           "abs",
                                           "sciatica",
                                           "sciatic",
                                           "pelvis",
                                           "pelvic",
                                           "tailbone",
                                           "coccyx",
                                           "sacrum",
                                           "sacroiliac",
                                           "si",
                                           "piriformis",
                                           "psoas",
                                           "l4",
                                           "l5",
                                           "s1",
                                           "lumbago",
                                           "spondylolisthesis",
                                           "stenosis",
                                           "sij",
                                           "qls"};

// Subjects of runners' questions that no topic covers. None of these words occurs in the content (a test checks;
// food and hydration as part of recovery is covered, so only eating and drinking for performance is listed),
// so a question using one is partly about something we have no answer for; with no back word it is all about it.
constexpr std::string_view kOtherSubjects[] = {
    // food, drink and supplements
    "eat", "eating", "ate", "diet", "meal", "meals", "breakfast", "dinner", "lunch", "snack", "snacks", "carbs", "carb",
    "carbohydrate", "carbohydrates", "protein", "calorie", "calories", "gel", "gels", "drink", "drinks", "drinking",
    "electrolyte", "electrolytes", "coffee", "caffeine", "alcohol", "beer", "wine", "supplement", "supplements",
    "creatine", "vitamin", "vitamins", "nutrition",
    // racing speed
    "pb", "pr", "speedwork", "tempo", "fartlek", "vo2", "splits", "qualify",
    // weather
    "weather", "rain", "raining", "snow", "humid", "humidity", "winter", "summer", "sunscreen",
    // accounts, bookings and payments
    "password", "login", "account", "subscription", "cancel", "refund", "pay", "payment", "price", "cost", "costs",
    "email", "phone", "booking", "appointment",
    // kit other than shoes, skin and feet
    "headphones", "earbuds", "socks", "glasses", "jacket", "blister", "blisters", "chafing", "toenail", "toenails",
    // other health subjects, and colds and other illnesses ("should I run with a cold")
    "anxiety", "depression", "period", "periods", "stitch", "flu", "covid", "sick", "illness", "cough", "coughing",
    "virus", "asthma", "inhaler", "breathing", "breathless", "pregnant", "pregnancy", "cramp", "cramps", "cramping",
    "abdomen",
    // clothing other than shoes (compression shorts are the brace topic's)
    "shirt", "shirts", "tshirt", "singlet", "gloves", "hat", "hats", "leggings", "bra", "bras",
    // mobility aids: walking with help is not running ("a mobility scooter for my father")
    "scooter", "scooters", "wheelchair", "wheelchairs", "zimmer", "stairlift", "rollator",
    // running-adjacent subjects: heat and cold, dogs and buggies, track and speed sessions, watches and apps,
    // fuelling and drinking, music, motivation
    "heatwave", "temperature", "freezing", "sunburn", "sweat", "sweating", "altitude", "puppy", "stroller", "pram",
    "buggy", "sprint", "sprints", "sprinting", "repeats", "laps", "400m", "800m", "1500m", "garmin", "strava", "gps",
    "smartwatch", "tracker", "fueling", "fuelling", "hydration", "hydrate", "banana", "pasta", "sugar", "keto",
    "fasting", "fasted", "music", "playlist", "podcast", "podcasts", "motivation", "motivated", "bored", "taper",
    "tapering"};

// Two- and three-word subjects whose words alone are ours ("heal faster" is a healing question, "run faster" a speed
// one).
constexpr std::string_view kOtherSubjectPhrases[] = {
    "run faster", "running faster", "get faster", "getting faster", "race time", "finish time", "finishing time",
    "personal best", "speed work", "race pace", "marathon pace",
    // heat and cold, dogs, track sessions, watches
    "too hot", "too cold", "hot weather", "cold weather", "hot day", "hot days", "in the heat", "my dog", "a dog",
    "the dog", "our dog", "interval training", "interval session", "interval sessions", "track session",
    "track sessions", "track workout", "track workouts", "heart rate", "running watch", "apple watch",
    // colds, the time of day, running in the dark
    "a cold", "head cold", "chest infection", "time of day", "the dark",
    // mobility aids
    "walking stick", "walking frame", "walking aid",
    // errands for the bot: it gives coaching, it does not shop or book ("can you order me new shoes")
    "order me", "buy me", "book me"};

// Racing and race performance, and sleep (before a race): subjects of their own unless the question also names the
// back, pain, an injury or healing ("can I race a 10k with a sore back" is ours, "a good 5k time at 40" is not).
constexpr std::string_view kRacingWords[] = {
    "race",      "races",      "racing",  "raceday", "marathon", "marathons", "marathoner", "marathoners", "ultra",
    "ultras",    "5k",         "10k",     "5km",     "10km",     "21k",       "42k",        "parkrun",     "parkruns",
    "triathlon", "triathlons", "ironman", "pace",    "pacing",   "sleep",     "sleeping",   "slept",       "naps"};

// Pain, injury and healing: with one of these a racing or sleep question is about the back after all.
constexpr std::string_view kPainOrHealingWords[] = {
    "hurt",     "hurts",   "hurting",   "pain",    "pains",     "painful",    "sore",     "soreness",
    "ache",     "aches",   "aching",    "achy",    "injury",    "injuries",   "injured",  "strain",
    "strained", "stiff",   "stiffness", "tight",   "tightness", "niggle",     "niggles",  "niggly",
    "niggling", "twinge",  "twinges",   "spasm",   "spasms",    "numb",       "numbness", "tingling",
    "heal",     "healing", "heals",     "healed",  "recover",   "recovering", "recovery", "rehab",
    "physio",   "flare",   "flares",    "tweaked", "tender",    "discomfort", "agony",    "brace"};

// The content's own practices: a race question about warming up, stretching or core work is ours ("do I need to warm
// up for a slow 5k"); racing distances, times and sleep are not.
constexpr std::string_view kPracticeWords[] = {"warm",      "warmup",     "warmups",  "cool",   "cooldown", "stretch",
                                               "stretches", "stretching", "mobility", "yoga",   "drills",   "core",
                                               "plank",     "planks",     "foam",     "roller", "brace",    "belt"};

// Greetings and small talk: a message made of these and stop words asks nothing.
constexpr std::string_view kSmallTalkWords[] = {
    "good", "morning", "afternoon", "evening", "night",  "day",     "how",     "are",       "you",    "doing", "today",
    "nice", "meet",    "there",     "thank",   "thanks", "bye",     "goodbye", "cheers",    "great",  "fine",  "hope",
    "well", "whats",   "up",        "sup",     "cool",   "awesome", "perfect", "brilliant", "lovely", "later", "cya"};

// "Lower" stands for the lower back ("my lower is sore") except before another part of the body ("lower legs",
// "lower abdomen") or in "lower my heart rate".
constexpr std::string_view kNotTheLowerBack[] = {"leg",     "legs",  "limb",  "limbs", "abdomen", "belly",
                                                 "stomach", "tummy", "heart", "my",    "the",     "your"};
// Below the knee: the shins and calves, another injury ("my lower legs ache").
constexpr std::string_view kLowerLeg[] = {"leg", "legs"};

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

bool ScopeCheck::SpreadsDownALeg(const std::vector<std::string>& words) {
  constexpr std::string_view kLeg[] = {"leg", "legs", "thigh", "thighs", "buttock", "buttocks"};
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (words[i] != "down") continue;
    for (std::size_t k = i + 1; k < words.size() && k <= i + 3; ++k) {
      if (Contains(kLeg, words[k])) return true;
    }
  }
  return false;
}

bool ScopeCheck::AboutOtherBodyPartOnly(const std::vector<std::string>& words) {
  const auto any = [&](auto predicate) { return std::any_of(words.begin(), words.end(), predicate); };
  bool lower_leg = false;
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    lower_leg = lower_leg || (words[i] == "lower" && Contains(kLowerLeg, words[i + 1]));
  }
  const bool other = lower_leg || any([](const std::string& w) { return IsOtherBodyPart(w); }) ||
                     (any([](const std::string& w) { return Contains(kHamstrings, w); }) &&
                      any([](const std::string& w) { return Contains(kMuscleInjuries, w); })) ||
                     ((any([](const std::string& w) { return Contains(kFeet, w); }) ||
                       any([](const std::string& w) { return Contains(kFormBodyParts, w); })) &&
                      any([](const std::string& w) { return Contains(kPainWords, w); }));
  // Numbness or tingling in the groin or saddle area is the cauda equina warning sign, a back emergency.
  const bool saddle_numbness =
      any([](const std::string& w) { return Contains(kNumbnessWords, w); }) &&
      any([](const std::string& w) { return w == "groin" || w == "saddle" || w == "genitals" || w == "bottom"; });
  return other && !NamesTheBack(words) && !SpreadsDownALeg(words) && !saddle_numbness;
}

bool ScopeCheck::IsOtherSubject(const std::string& word) {
  return Contains(kOtherSubjects, word);
}

bool ScopeCheck::AboutOtherSubjectOnly(const std::vector<std::string>& words) {
  const auto any = [&](auto predicate) { return std::any_of(words.begin(), words.end(), predicate); };
  bool other = any([](const std::string& w) { return IsOtherSubject(w); });
  for (std::size_t i = 0; !other && i + 1 < words.size(); ++i) {
    const std::string pair = words[i] + " " + words[i + 1];
    other = Contains(kOtherSubjectPhrases, pair) ||
            (i + 2 < words.size() && Contains(kOtherSubjectPhrases, pair + " " + words[i + 2]));
  }
  return other && !NamesTheBack(words);
}

bool ScopeCheck::NamesTheBack(const std::vector<std::string>& words) {
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (!IsBackWord(words[i])) continue;
    if (words[i] == "lower" && i + 1 < words.size() && Contains(kNotTheLowerBack, words[i + 1])) continue;
    const bool back_to_back =
        words[i] == "back" && ((i + 2 < words.size() && words[i + 1] == "to" && words[i + 2] == "back") ||
                               (i >= 2 && words[i - 1] == "to" && words[i - 2] == "back"));
    if (!back_to_back) return true;
  }
  return false;
}

bool ScopeCheck::AboutRacingOnly(const std::vector<std::string>& words) {
  const auto any = [&](auto predicate) { return std::any_of(words.begin(), words.end(), predicate); };
  return any([](const std::string& w) { return Contains(kRacingWords, w); }) &&
         !any([](const std::string& w) { return Contains(kPainOrHealingWords, w) || Contains(kPracticeWords, w); }) &&
         !NamesTheBack(words);
}

bool ScopeCheck::SmallTalkOnly(const std::vector<std::string>& words) {
  return !words.empty() && std::all_of(words.begin(), words.end(), [](const std::string& w) {
    return Contains(kSmallTalkWords, w) || QueryBuilder::IsStopWord(w);
  });
}

std::vector<std::string> ScopeCheck::OtherSubjectWords() {
  std::vector<std::string> subjects(std::begin(kOtherSubjects), std::end(kOtherSubjects));
  subjects.insert(subjects.end(), std::begin(kOtherSubjectPhrases), std::end(kOtherSubjectPhrases));
  return subjects;
}

}  // namespace coach::knowledge
