// Base64 encoding and strict decoding.
#include "base64.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace loom::text::detail {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr int kNotInAlphabet = -1;

// The 6-bit value of each byte, or kNotInAlphabet.
constexpr std::array<int, 256> make_values() {
  std::array<int, 256> values{};
  for (int& value : values)
    value = kNotInAlphabet;
  for (int i = 0; i < 64; ++i)
    values[static_cast<unsigned char>(kAlphabet[i])] = i;
  return values;
}
constexpr std::array<int, 256> kValues = make_values();

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string text;
  text.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t available = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t group = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      const auto byte = j < available ? static_cast<unsigned char>(bytes[i + j]) : 0u;
      group = (group << 8) | byte;
    }
    for (std::size_t j = 0; j < 4; ++j)
      text += j <= available ? kAlphabet[(group >> (18 - 6 * j)) & 0x3F] : '=';
  }
  return text;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string bytes;
  bytes.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last_group = i + 4 == text.size();
    std::size_t padding = 0;
    if (last_group) padding = text[i + 3] != '=' ? 0 : text[i + 2] != '=' ? 1 : 2;
    std::uint32_t group = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      int value = 0;
      if (j < 4 - padding) {
        value = kValues[static_cast<unsigned char>(text[i + j])];
        if (value == kNotInAlphabet) return std::nullopt;
      }
      group = (group << 6) | static_cast<std::uint32_t>(value);
    }
    // Canonical form: the bits that padding leaves over are zero.
    if ((padding == 1 && (group & 0xFF) != 0) || (padding == 2 && (group & 0xFFFF) != 0))
      return std::nullopt;
    for (std::size_t j = 0; j < 3 - padding; ++j)
      bytes += static_cast<char>((group >> (16 - 8 * j)) & 0xFF);
  }
  return bytes;
}

}  // namespace loom::text::detail
