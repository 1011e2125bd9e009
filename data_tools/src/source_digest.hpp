// Private to prepare: the size and CRC-32 of each input, recorded in the
// store so a model can be traced to the exact corpus bytes it was trained on.
#pragma once

#include <vector>

#include "loom/data/token_store.hpp"
#include "loom/data_tools/record_reader.hpp"

namespace loom::data_tools {

// Reads each input once, before tokenizing starts, so an unreadable file
// fails in seconds rather than after the passes. A folder input (a Discord
// package, a Telegram export) is summed over the files Loom reads from it,
// in path order: its message files and account/user.json, not the
// package's other folders.
std::vector<data::SourceFile> digest_sources(const std::vector<InputFile>& inputs);

}  // namespace loom::data_tools
