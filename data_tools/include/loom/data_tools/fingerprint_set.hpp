// A set of 64-bit fingerprints (hashes) for dedup: open addressing with
// linear probing in one flat array, so a corpus of a hundred million
// distinct records costs one or two gigabytes rather than the four or more
// a node-based std::unordered_set would take. The table doubles when three
// quarters full, so it holds 11-21 bytes per fingerprint.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace loom::data_tools {

class FingerprintSet {
 public:
  // True when `fingerprint` was not yet in the set (it is now).
  bool insert(std::uint64_t fingerprint);
  std::size_t size() const { return size_; }

 private:
  void grow();
  // The slot where a fingerprint's probe starts.
  std::size_t home(std::uint64_t fingerprint) const;
  // Places a fingerprint known to be absent, in a table with room.
  void place(std::uint64_t fingerprint);

  std::vector<std::uint64_t> slots_;  // a power of two of them; 0 marks an empty one
  unsigned shift_ = 64;               // 64 - log2(slots_.size())
  std::size_t size_ = 0;
};

}  // namespace loom::data_tools
