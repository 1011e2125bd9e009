// Linear probing over a power-of-two table; see fingerprint_set.hpp.
#include "loom/data_tools/fingerprint_set.hpp"

namespace loom::data_tools {
namespace {

// 0 marks empty slots, so the fingerprint 0 is stored as 1: the two then
// count as one, a collision as unlikely as any other.
std::uint64_t stored_form(std::uint64_t fingerprint) {
  return fingerprint == 0 ? 1 : fingerprint;
}

}  // namespace

bool FingerprintSet::insert(std::uint64_t fingerprint) {
  fingerprint = stored_form(fingerprint);
  if ((size_ + 1) * 4 > slots_.size() * 3) grow();
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t slot = home(fingerprint);; slot = (slot + 1) & mask) {
    if (slots_[slot] == fingerprint) return false;
    if (slots_[slot] == 0) {
      slots_[slot] = fingerprint;
      ++size_;
      return true;
    }
  }
}

void FingerprintSet::grow() {
  std::vector<std::uint64_t> old = std::move(slots_);
  slots_.assign(old.empty() ? 1024 : old.size() * 2, 0);
  shift_ = 64;
  for (std::size_t size = slots_.size(); size > 1; size /= 2)
    --shift_;
  for (const std::uint64_t fingerprint : old) {
    if (fingerprint != 0) place(fingerprint);
  }
}

std::size_t FingerprintSet::home(std::uint64_t fingerprint) const {
  // Fibonacci hashing: the top bits of the product depend on every bit of
  // the fingerprint, so weak low bits cannot crowd one region of the table.
  return static_cast<std::size_t>((fingerprint * 0x9E3779B97F4A7C15ULL) >> shift_);
}

void FingerprintSet::place(std::uint64_t fingerprint) {
  const std::size_t mask = slots_.size() - 1;
  std::size_t slot = home(fingerprint);
  while (slots_[slot] != 0)
    slot = (slot + 1) & mask;
  slots_[slot] = fingerprint;
}

}  // namespace loom::data_tools
