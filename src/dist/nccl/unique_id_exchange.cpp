// Rank 0's NCCL unique id, broadcast as bytes over the CPU communicator
// (unique_id_exchange.hpp).
#include "unique_id_exchange.hpp"

#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "loom/core/error.hpp"

namespace loom::dist::nccl {

UniqueId share_unique_id(Communicator& host) {
  std::string bytes;
  if (host.rank() == 0) {
    const UniqueId id = new_unique_id();
    bytes.assign(id.begin(), id.end());
  }
  bytes = host.broadcast_bytes(bytes, 0);
  UniqueId id;
  if (bytes.size() != id.size()) {
    throw Error(fmt::format(
        "rank {} got an NCCL unique id of {} bytes from rank 0, expected {}: are the ranks "
        "running the same Loom build?",
        host.rank(), bytes.size(), id.size()));
  }
  std::copy(bytes.begin(), bytes.end(), id.begin());
  return id;
}

}  // namespace loom::dist::nccl
