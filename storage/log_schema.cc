#include "storage/log_schema.h"

namespace parley::log_schema {

std::string U64Key(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(value >> (56 - 8 * i));
  return out;
}

std::optional<uint64_t> DecodeU64Key(std::string_view key) {
  if (key.size() != 8) return std::nullopt;
  uint64_t v = 0;
  for (char c : key) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

std::string NodeKey(int level, uint64_t index) {
  std::string out(1, static_cast<char>(level));
  out += U64Key(index);
  return out;
}

}  // namespace parley::log_schema
