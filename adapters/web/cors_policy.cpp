#include "adapters/web/cors_policy.h"

#include <algorithm>
#include <stdexcept>

namespace coach::adapters::web {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool IsOrigin(std::string_view origin) {
  std::string_view rest;
  if (origin.substr(0, 7) == "http://") {
    rest = origin.substr(7);
  } else if (origin.substr(0, 8) == "https://") {
    rest = origin.substr(8);
  } else {
    return false;
  }
  if (rest.empty()) return false;
  // A CSP source list and an exact Origin match both break on paths, queries, spaces or quotes.
  return std::all_of(rest.begin(), rest.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
           c == ':' || c == '[' || c == ']';
  });
}

}  // namespace

CorsPolicy CorsPolicy::FromList(std::string_view comma_separated) {
  CorsPolicy policy;
  while (!comma_separated.empty()) {
    const auto comma = comma_separated.find(',');
    auto entry = Trim(comma_separated.substr(0, comma));
    comma_separated = comma == std::string_view::npos ? std::string_view{} : comma_separated.substr(comma + 1);
    while (!entry.empty() && entry.back() == '/') entry.remove_suffix(1);
    if (entry.empty()) continue;
    if (entry == "*") throw std::invalid_argument("allowed origins must be exact origins, not *");
    if (!IsOrigin(entry)) {
      throw std::invalid_argument("allowed origin is not scheme://host[:port]: " + std::string(entry));
    }
    std::string origin(entry);
    if (std::find(policy.origins_.begin(), policy.origins_.end(), origin) == policy.origins_.end()) {
      policy.origins_.push_back(std::move(origin));
    }
  }
  return policy;
}

bool CorsPolicy::Allows(std::string_view origin) const {
  return std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
}

std::string CorsPolicy::ChatPageContentSecurityPolicy() const {
  std::string ancestors = "'self'";
  for (const auto& origin : origins_) ancestors += " " + origin;
  return "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
         "object-src 'none'; base-uri 'none'; frame-ancestors " +
         ancestors;
}

}  // namespace coach::adapters::web
