// Reads AdamW's state (optimizer.pt) as any LibTorch version wrote it.
//
// torch::optim's own load() cannot read across versions: the file names each
// parameter's state by its TensorImpl's address at save time, which 1.13
// writes in hex ("0x55d0...") and 2.x in decimal, and 2.x parses the names
// as decimal, so every state of a 1.13 file lands on one parameter. The
// names only pair a parameter's place in its group with its state, so they
// are read here as the strings they are, whoever wrote them.
#pragma once

#include <string>

#include <torch/torch.h>

namespace loom::run_dir {

// Puts the moments and step count saved for each parameter onto
// `optimizer`'s parameter in the same group and place, replacing any state it
// had (parameters saved without state get none), and leaves the groups'
// options (learning rate, decay) as they are: the trainer sets those from the
// config. Moments go to the device of their parameter. Throws
// CheckpointError naming `source`, and changes nothing, when the groups,
// their sizes or a parameter's shape differ from the optimizer's.
void read_adamw_state(torch::serialize::InputArchive& archive, torch::optim::AdamW& optimizer,
                      const std::string& source);

}  // namespace loom::run_dir
