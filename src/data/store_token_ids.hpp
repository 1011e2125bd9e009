// Token ids as the store writer's scratch files hold them: packed at the
// narrowest width (TokenDtype) the ids allow, converted from one width to
// another and, at commit, through a table of final ids.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "store_spill_file.hpp"

#include "loom/data/split_view.hpp"
#include "loom/text/tokenizer.hpp"

namespace loom::data::store_detail {

// Copies `count` ids from `in`, stored as `from`, to `out`, stored as `to`,
// each through final_ids when it is given: narrowing on append, widening
// the scratch files, remapping at commit. The caller has checked that every
// id fits `to`.
void convert_ids(TokenDtype from, const unsigned char* in, std::size_t count,
                 const text::TokenId* final_ids, TokenDtype to, unsigned char* out);

// Rewrites the `count` ids of `file`, stored as `from`, as the wider `to`,
// a block at a time through `block` and `converted` (scratch buffers).
void widen_ids(SpillFile& file, std::uint64_t count, TokenDtype from, TokenDtype to,
               std::vector<unsigned char>& block, std::vector<unsigned char>& converted);

}  // namespace loom::data::store_detail
