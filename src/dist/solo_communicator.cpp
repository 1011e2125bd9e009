// The communicator of a run with one rank. It lets the trainer make the
// same calls whatever the number of ranks: an all-reduce over one rank is
// the rank's own buffer, a broadcast from it changes nothing, and there is
// nobody to wait for at a barrier.
#include <fmt/format.h>
#include <torch/torch.h>

#include "loom/core/error.hpp"
#include "loom/dist/communicator.hpp"

namespace loom::dist {
namespace {

class DoneOperation final : public PendingOperation {
 public:
  void wait() override {}
};

class SoloCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string backend() const override { return "solo"; }

  std::unique_ptr<PendingOperation> all_reduce_async(torch::Tensor buffer, ReduceOp) override {
    check_rank_buffer(buffer);
    return std::make_unique<DoneOperation>();
  }
  void broadcast(torch::Tensor buffer, int root) override {
    check_rank_buffer(buffer);
    if (root != 0) throw Error(fmt::format("broadcast from rank {} in a world of one rank", root));
  }
  void barrier() override {}

 private:
  // The same contract as the other backends, so that a mistake shows with
  // one rank too.
  static void check_rank_buffer(const torch::Tensor& buffer) {
    if (!buffer.defined() || !buffer.is_contiguous())
      throw Error("communicator: buffers must be defined, contiguous tensors");
  }
};

}  // namespace

std::unique_ptr<Communicator> make_solo_communicator() {
  return std::make_unique<SoloCommunicator>();
}

}  // namespace loom::dist
