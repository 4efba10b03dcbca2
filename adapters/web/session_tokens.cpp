#include "adapters/web/session_tokens.h"

#include <array>
#include <stdexcept>

#include <sodium.h>

namespace coach::adapters::web {
namespace {

constexpr std::size_t kTokenBytes = 32;
constexpr std::size_t kSessionIdBytes = 16;
constexpr std::size_t kHashBytes = 32;

void EnsureSodium() {
  static const int status = sodium_init();
  if (status < 0) throw std::runtime_error("libsodium failed to initialise");
}

std::array<unsigned char, kHashBytes> Hash(std::string_view text) {
  std::array<unsigned char, kHashBytes> hash{};
  crypto_generichash(hash.data(), hash.size(), reinterpret_cast<const unsigned char*>(text.data()), text.size(),
                     nullptr, 0);
  return hash;
}

std::string Hex(const unsigned char* bytes, std::size_t size) {
  std::string hex(size * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), bytes, size);
  hex.pop_back();
  return hex;
}

}  // namespace

SessionCredentials SessionTokens::Issue() {
  EnsureSodium();
  std::array<unsigned char, kTokenBytes> secret{};
  randombytes_buf(secret.data(), secret.size());
  std::string token(sodium_base64_ENCODED_LEN(kTokenBytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(token.data(), token.size(), secret.data(), secret.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  token.resize(token.find('\0'));
  sodium_memzero(secret.data(), secret.size());

  std::array<unsigned char, kSessionIdBytes> id{};
  randombytes_buf(id.data(), id.size());
  return {Hex(id.data(), id.size()), std::move(token)};
}

std::string SessionTokens::TokenHash(std::string_view token) {
  EnsureSodium();
  const auto hash = Hash(token);
  return Hex(hash.data(), hash.size());
}

bool SessionTokens::LooksLikeSessionId(std::string_view session_id) {
  if (session_id.size() != kSessionIdBytes * 2) return false;
  for (const char c : session_id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool SessionTokens::SecretsEqual(std::string_view a, std::string_view b) {
  EnsureSodium();
  // Hashing first makes the comparison independent of where the inputs differ and of their lengths.
  const auto hash_a = Hash(a);
  const auto hash_b = Hash(b);
  return sodium_memcmp(hash_a.data(), hash_b.data(), hash_a.size()) == 0;
}

}  // namespace coach::adapters::web
