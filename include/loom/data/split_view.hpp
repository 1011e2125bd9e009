// A read-only view of one split's tokens and document starts, wherever they
// live: memory-mapped from a token store, or in plain vectors in a test. The
// sampler reads tokens only through this view, so it never knows which.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "loom/text/tokenizer.hpp"

namespace loom::data {

// On-disk token width, chosen from the vocabulary size.
enum class TokenDtype : std::uint8_t { u8, u16, u32 };

inline TokenDtype dtype_for_vocab(std::uint64_t vocab_size) {
  if (vocab_size <= 256) return TokenDtype::u8;
  if (vocab_size <= 65536) return TokenDtype::u16;
  return TokenDtype::u32;
}
inline std::size_t dtype_bytes(TokenDtype dtype) {
  return dtype == TokenDtype::u8 ? 1 : dtype == TokenDtype::u16 ? 2 : 4;
}
inline const char* dtype_name(TokenDtype dtype) {
  return dtype == TokenDtype::u8 ? "uint8" : dtype == TokenDtype::u16 ? "uint16" : "uint32";
}

enum class Split : std::uint8_t { train, val };
inline const char* split_name(Split split) {
  return split == Split::train ? "train" : "val";
}

struct SplitView {
  TokenDtype dtype = TokenDtype::u16;
  const void* tokens = nullptr;  // `size` little-endian tokens of `dtype`
  std::uint64_t size = 0;
  const std::uint64_t* doc_starts = nullptr;  // ascending token offsets; the first is 0
  std::uint64_t num_docs = 0;

  text::TokenId at(std::uint64_t index) const {
    switch (dtype) {
      case TokenDtype::u8:
        return static_cast<const std::uint8_t*>(tokens)[index];
      case TokenDtype::u16:
        return static_cast<const std::uint16_t*>(tokens)[index];
      case TokenDtype::u32:
        return static_cast<const std::uint32_t*>(tokens)[index];
    }
    return 0;
  }

  // Widens tokens [start, start + count) into `out`: the batch assembly hot
  // path, one tight loop per dtype. The caller keeps start + count <= size.
  void copy_to(std::uint64_t start, std::size_t count, std::int64_t* out) const {
    switch (dtype) {
      case TokenDtype::u8:
        widen(static_cast<const std::uint8_t*>(tokens) + start, count, out);
        return;
      case TokenDtype::u16:
        widen(static_cast<const std::uint16_t*>(tokens) + start, count, out);
        return;
      case TokenDtype::u32:
        widen(static_cast<const std::uint32_t*>(tokens) + start, count, out);
        return;
    }
  }

  // Token range of document `doc`: [doc_begin(doc), doc_end(doc)).
  std::uint64_t doc_begin(std::uint64_t doc) const { return doc_starts[doc]; }
  std::uint64_t doc_end(std::uint64_t doc) const {
    return doc + 1 < num_docs ? doc_starts[doc + 1] : size;
  }

 private:
  template <class T>
  static void widen(const T* from, std::size_t count, std::int64_t* out) {
    for (std::size_t i = 0; i < count; ++i)
      out[i] = from[i];
  }
};

}  // namespace loom::data
