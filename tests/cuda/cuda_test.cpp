// What only a GPU can check (ctest label `cuda`): the NCCL communicator of
// one rank, the gradient sync on CUDA tensors, training steps in bf16 and in
// fp16 with its loss scaler, a resume on the GPU that carries on the run,
// and KV-cached generation against recomputing the window. Built wherever
// LibTorch has CUDA; every test skips, saying why, when LibTorch sees no
// CUDA device.
// scripts/gpu-check.sh runs them on a lent GPU.
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "free_port.hpp"
#include "model/model_test_support.hpp"
#include "train/trainer_test_support.hpp"
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/Sleep.h>
#include <c10/cuda/CUDAGuard.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "loom/core/build_info.hpp"
#include "loom/dist/communicator.hpp"
#include "loom/dist/gradient_sync.hpp"
#include "loom/model/decode_state.hpp"
#include "loom/model/language_model.hpp"
#if LOOM_WITH_NCCL
#include "loom/dist/nccl_communicator.hpp"
#endif

namespace loom {
namespace {

using namespace loom::test;

class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available())
      GTEST_SKIP() << "no CUDA device visible to LibTorch: this test needs a GPU";
  }
};

#if LOOM_WITH_NCCL

// A communicator of one rank: the NCCL one on device 0, over a Gloo host
// communicator met through a store on a free loopback port.
std::unique_ptr<dist::Communicator> one_rank_nccl() {
  dist::StoreAddress address;
  address.host = "127.0.0.1";
  address.port = free_tcp_port();
  address.timeout_seconds = 30;
  return dist::make_nccl_communicator(dist::make_gloo_communicator(address, 0, 1), 0);
}

TEST_F(CudaTest, NcclOfOneRankReducesAndBroadcastsEveryBufferTypeInPlace) {
  const auto nccl = one_rank_nccl();
  EXPECT_EQ(nccl->backend(), "nccl");
  EXPECT_EQ(nccl->size(), 1);
  for (const torch::ScalarType dtype :
       {torch::kFloat32, torch::kBFloat16, torch::kFloat16, torch::kFloat64}) {
    // Integers up to 200 are exact in every one of these types.
    const torch::Tensor buffer =
        torch::arange(200, torch::TensorOptions(torch::kCUDA).dtype(dtype));
    const torch::Tensor expected = buffer.cpu();
    nccl->all_reduce(buffer, dist::ReduceOp::sum);
    EXPECT_TRUE(torch::equal(buffer.cpu(), expected)) << dtype;
    nccl->all_reduce(buffer, dist::ReduceOp::average);
    EXPECT_TRUE(torch::equal(buffer.cpu(), expected)) << dtype;
    nccl->broadcast(buffer, 0);
    EXPECT_TRUE(torch::equal(buffer.cpu(), expected)) << dtype;
  }
  // The CPU agreements ride on the host communicator.
  EXPECT_TRUE(nccl->any(true));
  EXPECT_FALSE(nccl->any(false));
  EXPECT_EQ(nccl->sum(2.5), 2.5);
  EXPECT_EQ(nccl->all_gather(7), std::vector<std::int64_t>{7});
  nccl->barrier();
}

// A reduction queued behind a slow kernel on the current stream returns to
// the host at once (the wait is the stream's, not the host's), and what the
// stream reads afterwards is the producer's value, reduced.
TEST_F(CudaTest, NcclReductionFollowsTheProducerStreamWithoutBlockingTheHost) {
  const auto nccl = one_rank_nccl();
  const at::cuda::CUDAStream producer = at::cuda::getStreamFromPool();
  const c10::cuda::CUDAStreamGuard on_producer(producer);
  const torch::Tensor buffer = torch::zeros({1 << 20}, torch::TensorOptions(torch::kCUDA));
  nccl->all_reduce(buffer, dist::ReduceOp::sum);  // NCCL's first call sets up its channels
  producer.synchronize();

  const auto spin_start = std::chrono::steady_clock::now();
  at::cuda::sleep(static_cast<std::int64_t>(2e9));  // about a second at 2 GHz
  buffer.fill_(3.0);
  const auto queued = std::chrono::steady_clock::now();
  nccl->all_reduce_async(buffer, dist::ReduceOp::sum)->wait();
  const auto host_back = std::chrono::steady_clock::now();
  buffer.mul_(2.0);
  const double total = buffer.sum().item<double>();  // waits for the stream
  const auto stream_done = std::chrono::steady_clock::now();

  EXPECT_EQ(total, 6.0 * (1 << 20));
  const auto ms = [](auto duration) {
    return std::chrono::duration<double, std::milli>(duration).count();
  };
  // The kernel really was slow, and the reduction did not wait for it on
  // the host.
  EXPECT_GT(ms(stream_done - spin_start), 200.0);
  EXPECT_LT(ms(host_back - queued), ms(stream_done - spin_start) / 4)
      << "all_reduce_async + wait blocked the host";
}

TEST_F(CudaTest, GradientSyncOverNcclKeepsOneRanksGradientsOnTheGpu) {
  const auto nccl = one_rank_nccl();
  const auto make = [] {
    torch::manual_seed(5);
    torch::nn::Sequential model;
    for (int i = 0; i < 4; ++i) {
      model->push_back(torch::nn::Linear(64, 64));
      model->push_back(torch::nn::Tanh());
    }
    model->to(torch::kCUDA);
    return model;
  };
  torch::manual_seed(9);
  const torch::Tensor input = torch::randn({16, 64}).to(torch::kCUDA);

  auto model = make();
  dist::GradientSync sync(model->parameters(), *nccl, /*bucket_mb=*/0.01);
  EXPECT_EQ(sync.bucket_count(), 8U);
  sync.arm();
  model->forward(input).square().mean().backward();
  sync.finish();
  EXPECT_EQ(sync.timeline().buckets_launched_by_hooks, 8);

  auto reference = make();
  reference->forward(input).square().mean().backward();
  const auto got = model->parameters(), expected = reference->parameters();
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(got[i].grad().is_cuda()) << i;
    EXPECT_TRUE(torch::allclose(got[i].grad(), expected[i].grad(), 1e-6, 1e-7)) << i;
  }
}

#endif  // LOOM_WITH_NCCL

class CudaTrainerTest : public CudaTest {
 protected:
  void SetUp() override {
    CudaTest::SetUp();
    if (IsSkipped()) return;
    prepare_tiny_store(dir_);
  }

  std::vector<double> losses(const std::vector<std::string>& overrides) {
    std::vector<std::string> all = {"run.device=cuda"};
    all.insert(all.end(), overrides.begin(), overrides.end());
    RecordingObserver observer;
    const train::TrainResult result = train::train(tiny_run_config(dir_, all), observer);
    std::vector<double> values;
    for (const auto& [step, loss] : step_losses(result.run_dir))
      values.push_back(loss);
    return values;
  }

  TempDir dir_;
};

// The three precisions start from the same weights on the same batch, so
// their first losses agree to within reduced precision, and all three learn.
TEST_F(CudaTrainerTest, Bf16AndFp16WithItsLossScalerTrainLikeFloat32) {
  const std::vector<double> fp32 = losses({"run.name=fp32"});
  const std::vector<double> bf16 = losses({"run.name=bf16", "train.precision=bf16"});
  const std::vector<double> fp16 = losses({"run.name=fp16", "train.precision=fp16"});
  ASSERT_EQ(fp32.size(), 12U);
  ASSERT_EQ(bf16.size(), 12U);
  ASSERT_EQ(fp16.size(), 12U);
  EXPECT_NEAR(bf16.front(), fp32.front(), 0.05);
  EXPECT_NEAR(fp16.front(), fp32.front(), 0.01);
  for (const auto* run : {&fp32, &bf16, &fp16})
    EXPECT_LT(run->back(), run->front() - 0.3);
}

// 12 steps straight against 6, a checkpoint, and 6 more. CUDA's embedding
// backward adds in whatever order its atomics land, so the losses agree to
// float32 rounding rather than bit for bit.
TEST_F(CudaTrainerTest, AResumedRunOnTheGpuMatchesTheUninterruptedOne) {
  const std::vector<double> straight = losses({"run.name=straight"});
  losses({"run.name=resumed", "train.max_iters=6"});
  const std::vector<double> resumed = losses({"run.name=resumed", "train.max_iters=12"});
  ASSERT_EQ(straight.size(), 12U);
  ASSERT_EQ(resumed.size(), 12U);
  for (std::size_t i = 0; i < straight.size(); ++i)
    EXPECT_NEAR(resumed[i], straight[i], 1e-5) << "step " << i + 1;
}

// Scrambled weights (far from the near-uniform init) so that a stale key or
// a wrong position changes the argmax.
TEST_F(CudaTest, KeyValueCachedGreedyDecodingEqualsRecomputingAndTheCpu) {
  config::ModelConfig config = tiny_config(config::ModelArch::gpt);
  config.block_size = 8;
  torch::manual_seed(11);
  const auto model = model::make_model(config, 17);
  {
    torch::NoGradGuard no_grad;
    for (torch::Tensor& parameter : model->parameters())
      parameter.normal_(0.0, 0.5);
  }
  model->eval();
  const auto greedy = [&](model::DecodeMode mode) {
    model::DecodeState state = model->start_decoding(1, mode);
    std::vector<std::int64_t> ids = {2, 7, 1};
    torch::Tensor logits = model->decode(state, {ids});
    for (int step = 0; step < 30; ++step) {  // the 8-token window slides 25 times
      ids.push_back(logits[0].argmax().item<std::int64_t>());
      logits = model->decode(state, {{ids.back()}});
    }
    return ids;
  };
  const std::vector<std::int64_t> on_cpu = greedy(model::DecodeMode::cached);
  model->to(torch::kCUDA);
  const std::vector<std::int64_t> cached = greedy(model::DecodeMode::cached);
  EXPECT_EQ(cached, greedy(model::DecodeMode::recompute));
  EXPECT_EQ(cached, on_cpu);
  EXPECT_GE(std::set<std::int64_t>(cached.begin(), cached.end()).size(), 4U);
}

}  // namespace
}  // namespace loom
