// GradientSync with real ranks (ctest runs this binary under mpirun -np 2):
// after finish() every rank holds the average of all ranks' gradients, the
// micro-steps before the last accumulate without talking, and the first
// bucket's all-reduce starts before backward has finished (docs/ARCHITECTURE.md,
// invariant 3).
#include "loom/dist/gradient_sync.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "loom/dist/communicator.hpp"

namespace loom::dist {
namespace {

Communicator& world() {
  static const std::unique_ptr<Communicator> communicator = make_mpi_communicator();
  return *communicator;
}

// Eight linear layers, each its own bucket (bucket_mb tiny), so backward
// produces the buckets one after another.
torch::nn::Sequential deep_model() {
  torch::manual_seed(11);  // the same weights on every rank
  torch::nn::Sequential model;
  for (int i = 0; i < 8; ++i) {
    model->push_back(torch::nn::Linear(64, 64));
    model->push_back(torch::nn::Tanh());
  }
  return model;
}

// This rank's input: different on every rank, so the gradients differ.
torch::Tensor input_of(int rank, int micro) {
  torch::manual_seed(100 + 10 * rank + micro);
  return torch::randn({16, 64});
}

TEST(GradientSync, RanksEndWithTheAverageOfTheirAccumulatedGradients) {
  ASSERT_EQ(world().size(), 2) << "run under mpirun -np 2";
  auto model = deep_model();
  GradientSync sync(model->parameters(), world(), /*bucket_mb=*/0.01);
  EXPECT_EQ(sync.bucket_count(), 16U);  // a weight and a bias per layer

  // Two micro-steps; only the second is armed.
  model->forward(input_of(world().rank(), 0)).square().mean().backward();
  sync.arm();
  model->forward(input_of(world().rank(), 1)).square().mean().backward();
  sync.finish();

  // The expected average, computed on every rank from both ranks' inputs.
  auto reference = deep_model();
  for (int rank = 0; rank < 2; ++rank)
    for (int micro = 0; micro < 2; ++micro)
      reference->forward(input_of(rank, micro)).square().mean().div(2).backward();
  const auto got = model->parameters(), expected = reference->parameters();
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_TRUE(torch::allclose(got[i].grad(), expected[i].grad(), 1e-5, 1e-7)) << i;
}

TEST(GradientSync, TheFirstBucketIsReducedWhileBackwardStillRuns) {
  auto model = deep_model();
  GradientSync sync(model->parameters(), world(), /*bucket_mb=*/0.01);
  sync.arm();
  model->forward(input_of(world().rank(), 0)).square().mean().backward();
  const SyncTimeline timeline = sync.timeline();
  sync.finish();
  EXPECT_EQ(timeline.buckets_launched_by_hooks, 16);
  // The first all-reduce was posted before the last gradient arrived.
  EXPECT_LT(timeline.first_launch, timeline.last_hook);
}

TEST(GradientSync, WithoutHooksFinishReducesEverything) {
  // Gradients set by hand (as the CPU batch slices do): nothing armed.
  auto model = deep_model();
  GradientSync sync(model->parameters(), world(), /*bucket_mb=*/25);
  EXPECT_EQ(sync.bucket_count(), 1U);
  for (torch::Tensor& p : model->parameters())
    p.mutable_grad() = torch::full_like(p, static_cast<double>(world().rank() + 1));
  sync.finish();
  for (const torch::Tensor& p : model->parameters())
    EXPECT_TRUE(torch::equal(p.grad(), torch::full_like(p, 1.5)));
}

TEST(Communicator, AgreesOnFlagsSumsAndGathers) {
  EXPECT_TRUE(world().any(world().rank() == 1));
  EXPECT_FALSE(world().any(false));
  EXPECT_EQ(world().sum(world().rank() + 0.5), 2.0);
  const std::int64_t big = (std::int64_t{1} << 62) + 12345;
  EXPECT_EQ(world().all_gather(big + world().rank()), (std::vector<std::int64_t>{big, big + 1}));
  torch::Tensor buffer = torch::full({3}, static_cast<float>(world().rank() * 10));
  world().broadcast(buffer, 1);
  EXPECT_TRUE(torch::equal(buffer, torch::full({3}, 10.0F)));
}

}  // namespace
}  // namespace loom::dist
