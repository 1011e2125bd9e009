// dist::connect: the backend table of connect.hpp, with the errors that
// tell a user which key to change.
#include "loom/dist/connect.hpp"

#include <cstdlib>

#include <fmt/format.h>
#include <fmt/ranges.h>
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

constexpr bool kNcclBuilt = LOOM_WITH_NCCL != 0;

std::string name_of(DistBackend backend) {
  return config::enum_name(backend);
}

// The backend for CPU tensors: the one asked for, or auto's pick.
std::unique_ptr<Communicator> join_over_cpu(const LaunchEnv& launch, DistBackend backend,
                                            const std::string& interface) {
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
  return make_gloo_communicator(store_address_from_environment(), launch.rank, launch.world_size,
                                interface);
}

// run.device: cuda where LibTorch sees no CUDA device.
void check_device_exists(config::Device requested) {
  if (requested == config::Device::cuda && !torch::cuda::is_available()) {
    throw UsageError(
        "run.device is cuda, but LibTorch sees no CUDA device (this build's LibTorch may be "
        "CPU-only; `loom --version` says); use run.device: cpu or auto");
  }
}

// Whether this rank will compute on a CUDA device, known before the ranks
// meet (which one may depend on the rank's place on its node).
bool computes_on_cuda(config::Device requested) {
  return requested == config::Device::cuda ||
         (requested == config::Device::automatic && torch::cuda::is_available());
}

// The backend fits the device kind this rank computes on, and is built in.
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
  if (on_cuda && !kNcclBuilt) {
    throw UsageError(
        "several ranks on CUDA need NCCL, and this build has none (it looks in NCCL_HOME and "
        "/usr/local/cuda when LibTorch has CUDA); rebuild with NCCL, or set run.device: cpu");
  }
}

// Every rank computes on the same kind of device, or some would start
// NCCL and wait for ranks that never join (run.device: auto on nodes of
// which some have GPUs).
void check_ranks_agree_on_device(Communicator& host, bool on_cuda) {
  const std::vector<std::int64_t> kinds = host.all_gather(on_cuda ? 1 : 0);
  std::vector<std::string> cuda_ranks;
  for (std::size_t r = 0; r < kinds.size(); ++r)
    if (kinds[r] == 1) cuda_ranks.push_back(std::to_string(r));
  if (cuda_ranks.empty() || cuda_ranks.size() == kinds.size()) return;
  throw UsageError(fmt::format(
      "the ranks disagree on the device: rank{} {} compute{} on CUDA, the others on the cpu; set "
      "run.device: cpu or cuda for all",
      cuda_ranks.size() == 1 ? "" : "s", fmt::join(cuda_ranks, ", "),
      cuda_ranks.size() == 1 ? "s" : ""));
}

std::unique_ptr<Communicator> join_over_nccl(std::unique_ptr<Communicator> host,
                                             const torch::Device& device) {
#if LOOM_WITH_NCCL
  return make_nccl_communicator(std::move(host), device.index());
#else
  (void)device;
  return host;  // not reached: check_backend_carries refused CUDA ranks without NCCL
#endif
}

}  // namespace

torch::Device device_for_rank(config::Device requested, int local_rank) {
  check_device_exists(requested);
  if (!computes_on_cuda(requested)) return torch::Device(torch::kCPU);
  const auto devices = static_cast<int>(torch::cuda::device_count());
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank % devices));
}

// MASTER_ADDR, where the ranks were started from it: rank 0's address that
// every rank already reached, the first the peer watch offers.
std::string master_address() {
  const char* address = std::getenv("MASTER_ADDR");
  return address != nullptr ? address : "";
}

Connection connect(const LaunchEnv& launch, const config::DistConfig& dist,
                   config::Device requested_device) {
  const DistBackend backend = dist.backend;
  Connection connection;
  if (launch.world_size == 1) {
    connection.communicator = make_solo_communicator();
    connection.device = device_for_rank(requested_device, launch.local_rank);
    return connection;
  }

  // Refused before the ranks meet: a rank that stops then leaves no peer
  // waiting for it.
  check_device_exists(requested_device);
  const bool on_cuda = computes_on_cuda(requested_device);
  check_backend_carries(backend, on_cuda);
  std::unique_ptr<Communicator> host = join_over_cpu(launch, backend, dist.interface);
  log::set_rank(host->rank(), host->size());
  check_ranks_agree_on_device(*host, on_cuda);
  PeerWatchOptions watch;
  watch.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(dist.timeout * 1000));
  watch.interface = dist.interface;
  if (launch.launcher != Launcher::openmpi) watch.preferred_address = master_address();
  // The host names serve the watch's messages and, for launches that do
  // not say, this rank's place on its node: gathered once for both.
  std::vector<std::string> host_names = gather_host_names(*host);
  int local_rank = launch.local_rank;
  connection.local_world_size = launch.local_world_size;
  if (!launch.local_rank_known) {
    const LocalPlacement placement = local_placement_among(host_names, host->rank());
    local_rank = placement.local_rank;
    connection.local_world_size = placement.local_size;
  }
  connection.peer_watch =
      watch_peers(*host, std::move(host_names), watch, exit_on_lost_peer(host->rank()));
  connection.device = device_for_rank(requested_device, local_rank);
  connection.communicator = connection.device.is_cuda()
                                ? join_over_nccl(std::move(host), connection.device)
                                : std::move(host);
  return connection;
}

}  // namespace loom::dist
