#include "store_token_ids.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace loom::data::store_detail {
namespace {

// Calls `use` with a value of the integer type that stores `dtype`.
template <class Use>
void with_dtype_type(TokenDtype dtype, Use&& use) {
  switch (dtype) {
    case TokenDtype::u8:
      return use(std::uint8_t{});
    case TokenDtype::u16:
      return use(std::uint16_t{});
    case TokenDtype::u32:
      return use(std::uint32_t{});
  }
}

}  // namespace

void convert_ids(TokenDtype from, const unsigned char* in, std::size_t count,
                 const text::TokenId* final_ids, TokenDtype to, unsigned char* out) {
  with_dtype_type(from, [&](auto from_type) {
    with_dtype_type(to, [&](auto to_type) {
      using From = decltype(from_type);
      using To = decltype(to_type);
      auto id_at = [in](std::size_t i) {
        From id;
        std::memcpy(&id, in + i * sizeof(From), sizeof(From));
        return id;
      };
      auto put = [out](std::size_t i, text::TokenId id) {
        const To value = static_cast<To>(id);
        std::memcpy(out + i * sizeof(To), &value, sizeof(To));
      };
      // Two loops, so the one without a table has no test per id.
      if (final_ids == nullptr) {
        for (std::size_t i = 0; i < count; ++i)
          put(i, id_at(i));
      } else {
        for (std::size_t i = 0; i < count; ++i)
          put(i, final_ids[id_at(i)]);
      }
    });
  });
}

void widen_ids(SpillFile& file, std::uint64_t count, TokenDtype from, TokenDtype to,
               std::vector<unsigned char>& block, std::vector<unsigned char>& converted) {
  const std::size_t width = dtype_bytes(from);
  const std::size_t wider_width = dtype_bytes(to);
  const std::uint64_t per_block = kSpillBlockBytes / wider_width;
  block.resize(kSpillBlockBytes);
  converted.resize(kSpillBlockBytes);
  SpillFile widened(file.path());
  for (std::uint64_t start = 0; start < count; start += per_block) {
    const std::uint64_t take = std::min(per_block, count - start);
    file.read(start * width, block.data(), take * width);
    convert_ids(from, block.data(), take, nullptr, to, converted.data());
    widened.append(converted.data(), take * wider_width);
  }
  file = std::move(widened);
}

}  // namespace loom::data::store_detail
