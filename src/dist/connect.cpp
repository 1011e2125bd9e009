// dist::connect: the backend table of connect.hpp, with the errors that
// tell a user which key to change.
#include "loom/dist/connect.hpp"

#include <fmt/format.h>
#include <torch/torch.h>

#include "loom/core/build_info.hpp"
#include "loom/core/error.hpp"
#include "loom/core/log.hpp"
#include "loom/dist/local_placement.hpp"
#if LOOM_WITH_NCCL
#include "loom/dist/nccl_communicator.hpp"
#endif

namespace loom::dist {
namespace {

using config::DistBackend;

std::string name_of(DistBackend backend) {
  return config::enum_name(backend);
}

// The backend for CPU tensors: the one asked for, or auto's pick.
std::unique_ptr<Communicator> join_over_cpu(const LaunchEnv& launch, DistBackend backend) {
  const bool under_mpirun = launch.launcher == Launcher::openmpi;
  if (backend == DistBackend::mpi && !under_mpirun) {
    throw UsageError(fmt::format(
        "dist.backend is mpi, but this rank was started {}, not by mpirun, so MPI cannot reach "
        "the other ranks; start the run with mpirun, or set dist.backend: gloo (or auto)",
        launch.launcher == Launcher::slurm ? "by srun" : "from RANK/WORLD_SIZE"));
  }
  const bool use_mpi =
      backend == DistBackend::mpi || (backend != DistBackend::gloo && under_mpirun);
  if (use_mpi) return make_mpi_communicator();
  return make_gloo_communicator(store_address_from_environment(), launch.rank, launch.world_size);
}

// Whether this rank will compute on a CUDA device, known before the ranks
// meet (which one may depend on the rank's place on its node).
bool computes_on_cuda(config::Device requested) {
  return requested == config::Device::cuda ||
         (requested == config::Device::automatic && torch::cuda::is_available());
}

// The backend fits the device kind this rank computes on.
void check_backend_carries(DistBackend backend, bool on_cuda) {
  if (on_cuda && (backend == DistBackend::mpi || backend == DistBackend::gloo)) {
    throw UsageError(fmt::format(
        "dist.backend is {}, which carries CPU tensors only, but this rank computes on CUDA; set "
        "dist.backend: nccl (or auto), or run.device: cpu",
        name_of(backend)));
  }
  if (!on_cuda && backend == DistBackend::nccl) {
    throw UsageError(
        "dist.backend is nccl, which carries CUDA tensors only, but this rank computes on the "
        "cpu; set dist.backend: auto, mpi or gloo, or run.device: cuda");
  }
}

std::unique_ptr<Communicator> join_over_nccl(std::unique_ptr<Communicator> host,
                                             const torch::Device& device) {
#if LOOM_WITH_NCCL
  return make_nccl_communicator(std::move(host), device.index());
#else
  (void)host, (void)device;
  throw UsageError(
      "several ranks on CUDA need NCCL, and this build has none (it looks in NCCL_HOME and "
      "/usr/local/cuda when LibTorch has CUDA); rebuild with NCCL, or set run.device: cpu");
#endif
}

}  // namespace

torch::Device device_for_rank(config::Device requested, int local_rank) {
  const bool have_cuda = torch::cuda::is_available();
  if (requested == config::Device::cpu || (requested == config::Device::automatic && !have_cuda))
    return torch::Device(torch::kCPU);
  if (!have_cuda) {
    throw UsageError(
        "run.device is cuda, but LibTorch sees no CUDA device (this build's LibTorch may be "
        "CPU-only; `loom --version` says); use run.device: cpu or auto");
  }
  const auto devices = static_cast<int>(torch::cuda::device_count());
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank % devices));
}

Connection connect(const LaunchEnv& launch, DistBackend backend, config::Device requested_device) {
  Connection connection;
  if (launch.world_size == 1) {
    connection.communicator = make_solo_communicator();
    connection.device = device_for_rank(requested_device, launch.local_rank);
    return connection;
  }

  // Refused before the ranks meet: a rank that stops then leaves no peer
  // waiting for it.
  check_backend_carries(backend, computes_on_cuda(requested_device));
  std::unique_ptr<Communicator> host = join_over_cpu(launch, backend);
  log::set_rank(host->rank(), host->size());
  int local_rank = launch.local_rank;
  connection.local_world_size = launch.local_world_size;
  if (!launch.local_rank_known) {
    const LocalPlacement placement = gather_local_placement(*host);
    local_rank = placement.local_rank;
    connection.local_world_size = placement.local_size;
  }
  connection.device = device_for_rank(requested_device, local_rank);
  connection.communicator = connection.device.is_cuda()
                                ? join_over_nccl(std::move(host), connection.device)
                                : std::move(host);
  return connection;
}

}  // namespace loom::dist
