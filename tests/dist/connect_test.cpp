// dist::connect and the communicator of a one-rank run: one rank gets the
// solo communicator, whose collectives are the identity, so the trainer
// makes the same calls with one rank as with many; a backend that cannot
// carry the run is refused before the ranks meet, naming the key.
#include "loom/dist/connect.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "loom/core/error.hpp"
#include "loom/dist/communicator.hpp"
#include "loom/dist/gradient_sync.hpp"

namespace loom::dist {
namespace {

TEST(SoloCommunicator, EveryCollectiveReturnsTheRanksOwnValues) {
  const std::unique_ptr<Communicator> solo = make_solo_communicator();
  EXPECT_EQ(solo->rank(), 0);
  EXPECT_EQ(solo->size(), 1);
  EXPECT_EQ(solo->backend(), "solo");

  const torch::Tensor buffer = torch::tensor({1.5F, -2.0F, 3.25F});
  const torch::Tensor before = buffer.clone();
  solo->all_reduce(buffer, ReduceOp::average);
  solo->all_reduce(buffer, ReduceOp::sum);
  solo->broadcast(buffer, 0);
  EXPECT_TRUE(torch::equal(buffer, before));
  solo->barrier();

  EXPECT_TRUE(solo->any(true));
  EXPECT_FALSE(solo->any(false));
  EXPECT_EQ(solo->sum(0.1), 0.1);
  EXPECT_EQ(solo->all_gather(std::int64_t{-42}), std::vector<std::int64_t>{-42});
  EXPECT_EQ(solo->all_gather_bytes("host-a"), std::vector<std::string>{"host-a"});
  EXPECT_EQ(solo->broadcast_bytes("id", 0), "id");
}

TEST(SoloCommunicator, ABroadcastFromAnotherRankIsAnError) {
  const std::unique_ptr<Communicator> solo = make_solo_communicator();
  EXPECT_THROW(solo->broadcast(torch::zeros({2}), 1), Error);
}

TEST(SoloCommunicator, GradientSyncLeavesTheGradientsAsTheyAre) {
  const std::unique_ptr<Communicator> solo = make_solo_communicator();
  torch::Tensor weight = torch::randn({3, 4}, torch::requires_grad());
  GradientSync sync({weight}, *solo, /*bucket_mb=*/1.0);
  EXPECT_EQ(sync.bucket_count(), 0U);
  sync.arm();
  (weight * weight).sum().backward();
  const torch::Tensor expected = 2 * weight.detach();
  sync.finish();
  EXPECT_TRUE(torch::allclose(weight.grad(), expected));
}

TEST(Connect, OneRankGetsTheSoloCommunicatorWhateverTheBackend) {
  for (const config::DistBackend backend :
       {config::DistBackend::automatic, config::DistBackend::mpi, config::DistBackend::gloo}) {
    config::DistConfig dist;
    dist.backend = backend;
    const Connection connection = connect(LaunchEnv{}, dist, config::Device::cpu);
    EXPECT_EQ(connection.communicator->backend(), "solo");
    EXPECT_EQ(connection.peer_watch, nullptr);
    EXPECT_EQ(connection.device, torch::Device(torch::kCPU));
    EXPECT_EQ(connection.local_world_size, 1);
  }
}

// Two ranks whose backend cannot work are refused before they try to meet,
// so these return at once (no peer is started).
LaunchEnv second_of_two(Launcher launcher) {
  LaunchEnv launch;
  launch.rank = 1;
  launch.world_size = 2;
  launch.local_rank = 1;
  launch.local_world_size = 2;
  launch.launcher = launcher;
  return launch;
}

std::string usage_error_of(const LaunchEnv& launch, config::DistBackend backend,
                           config::Device device) {
  try {
    config::DistConfig dist;
    dist.backend = backend;
    connect(launch, dist, device);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no UsageError)";
}

TEST(Connect, MpiNeedsRanksThatMpirunStarted) {
  EXPECT_EQ(
      usage_error_of(second_of_two(Launcher::env), config::DistBackend::mpi, config::Device::cpu),
      "dist.backend is mpi, but this rank was started from RANK/WORLD_SIZE, not by mpirun, "
      "so MPI cannot reach the other ranks; start the run with mpirun, or set "
      "dist.backend: gloo (or auto)");
  EXPECT_EQ(
      usage_error_of(second_of_two(Launcher::slurm), config::DistBackend::mpi, config::Device::cpu),
      "dist.backend is mpi, but this rank was started by srun, not by mpirun, so MPI cannot "
      "reach the other ranks; start the run with mpirun, or set dist.backend: gloo (or "
      "auto)");
}

TEST(Connect, NcclCarriesCudaTensorsOnly) {
  EXPECT_EQ(
      usage_error_of(second_of_two(Launcher::env), config::DistBackend::nccl, config::Device::cpu),
      "dist.backend is nccl, which carries CUDA tensors only, but this rank computes on the "
      "cpu; set dist.backend: auto, mpi or gloo, or run.device: cuda");
}

TEST(Connect, MpiAndGlooCarryCpuTensorsOnly) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a CUDA device";
  for (const config::DistBackend backend : {config::DistBackend::mpi, config::DistBackend::gloo}) {
    EXPECT_EQ(usage_error_of(second_of_two(Launcher::openmpi), backend, config::Device::cuda),
              fmt::format("dist.backend is {}, which carries CPU tensors only, but this rank "
                          "computes on CUDA; set dist.backend: nccl (or auto), or run.device: cpu",
                          config::enum_name(backend)));
  }
}

TEST(Connect, ACudaDeviceLibTorchDoesNotSeeIsRefusedBeforeTheRanksMeet) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "this machine has a CUDA device";
  const std::string expected =
      "run.device is cuda, but LibTorch sees no CUDA device (this build's LibTorch may be "
      "CPU-only; `loom --version` says); use run.device: cpu or auto";
  for (const config::DistBackend backend :
       {config::DistBackend::automatic, config::DistBackend::gloo, config::DistBackend::nccl})
    EXPECT_EQ(usage_error_of(second_of_two(Launcher::env), backend, config::Device::cuda),
              expected);
  EXPECT_THROW(device_for_rank(config::Device::cuda, 0), UsageError);
}

TEST(Connect, GlooWithoutTheStoreAddressNamesTheVariables) {
  unsetenv("MASTER_ADDR");
  const std::string error =
      usage_error_of(second_of_two(Launcher::env), config::DistBackend::gloo, config::Device::cpu);
  EXPECT_NE(error.find("MASTER_ADDR"), std::string::npos) << error;
}

}  // namespace
}  // namespace loom::dist
