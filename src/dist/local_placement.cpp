// A rank's place on its node, counted from every rank's host name
// (include/loom/dist/local_placement.hpp says when this is needed).
#include "loom/dist/local_placement.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include "loom/core/error.hpp"

namespace loom::dist {

LocalPlacement local_placement_among(const std::vector<std::string>& host_names, int rank) {
  if (rank < 0 || static_cast<std::size_t>(rank) >= host_names.size()) {
    throw Error(fmt::format("local placement: rank {} is not among the {} host names gathered",
                            rank, host_names.size()));
  }
  const std::string& own = host_names[static_cast<std::size_t>(rank)];
  LocalPlacement placement;
  placement.local_size = 0;
  for (std::size_t r = 0; r < host_names.size(); ++r) {
    if (host_names[r] != own) continue;
    if (r < static_cast<std::size_t>(rank)) ++placement.local_rank;
    ++placement.local_size;
  }
  return placement;
}

std::string describe_placement(const std::vector<std::string>& host_names) {
  std::vector<std::pair<std::string, std::vector<std::size_t>>> hosts;
  for (std::size_t r = 0; r < host_names.size(); ++r) {
    auto host = std::find_if(hosts.begin(), hosts.end(),
                             [&](const auto& entry) { return entry.first == host_names[r]; });
    if (host == hosts.end()) host = hosts.insert(hosts.end(), {host_names[r], {}});
    host->second.push_back(r);
  }
  std::vector<std::string> parts;
  for (const auto& [name, ranks] : hosts)
    parts.push_back(
        fmt::format("{} (rank{} {})", name, ranks.size() == 1 ? "" : "s", fmt::join(ranks, ", ")));
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string this_host_name() {
  // POSIX leaves the result unterminated when it is cut short; a buffer one
  // longer than any Linux host name and zero-filled avoids that case.
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0)
    throw Error(fmt::format("gethostname failed: {}", std::strerror(errno)));
  return name;
}

std::vector<std::string> gather_host_names(Communicator& communicator) {
  return communicator.all_gather_bytes(this_host_name());
}

LocalPlacement gather_local_placement(Communicator& communicator) {
  return local_placement_among(gather_host_names(communicator), communicator.rank());
}

}  // namespace loom::dist
