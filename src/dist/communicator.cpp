// What every backend offers on top of its all-reduce and broadcast: the
// small agreements (a flag, a sum, one number or byte string per rank),
// built from collectives on CPU float64 tensors so that a backend only has
// to implement those two.
#include "loom/dist/communicator.hpp"

#include <algorithm>

#include <torch/torch.h>

namespace loom::dist {
namespace {

// Byte strings travel one byte per float64 element: every backend reduces
// and broadcasts float64, and a sum of one byte and zeros is exact.
void write_bytes(const std::string& bytes, double* values) {
  for (std::size_t i = 0; i < bytes.size(); ++i)
    values[i] = static_cast<unsigned char>(bytes[i]);
}

std::string read_bytes(const double* values, std::int64_t count) {
  std::string bytes(static_cast<std::size_t>(count), '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<char>(static_cast<unsigned char>(values[i]));
  return bytes;
}

}  // namespace

// With one rank (the solo communicator, or any backend's world of one) the
// agreements are the rank's own values: no tensor, no collective, as they
// run after every training step.
bool Communicator::any(bool flag) {
  if (size() == 1) return flag;
  const torch::Tensor value = torch::full({1}, flag ? 1.0 : 0.0, torch::kFloat64);
  all_reduce(value, ReduceOp::sum);
  return value.item<double>() > 0;
}

double Communicator::sum(double value) {
  if (size() == 1) return value;
  const torch::Tensor buffer = torch::full({1}, value, torch::kFloat64);
  all_reduce(buffer, ReduceOp::sum);
  return buffer.item<double>();
}

std::vector<std::int64_t> Communicator::all_gather(std::int64_t value) {
  if (size() == 1) return {value};
  // Each rank fills its own slot of a zero vector; a sum gathers them.
  // float64 holds integers exactly up to 2^53, so values are split in two
  // 32-bit halves.
  const torch::Tensor slots = torch::zeros({size(), 2}, torch::kFloat64);
  const auto bits = static_cast<std::uint64_t>(value);
  slots[rank()][0] = static_cast<double>(bits >> 32);
  slots[rank()][1] = static_cast<double>(bits & 0xffffffffULL);
  all_reduce(slots, ReduceOp::sum);
  std::vector<std::int64_t> values;
  for (int r = 0; r < size(); ++r) {
    const auto high = static_cast<std::uint64_t>(slots[r][0].item<double>());
    const auto low = static_cast<std::uint64_t>(slots[r][1].item<double>());
    values.push_back(static_cast<std::int64_t>((high << 32) | low));
  }
  return values;
}

std::vector<std::string> Communicator::all_gather_bytes(const std::string& bytes) {
  const std::vector<std::int64_t> lengths = all_gather(static_cast<std::int64_t>(bytes.size()));
  const std::int64_t longest = *std::max_element(lengths.begin(), lengths.end());
  if (longest == 0) return std::vector<std::string>(lengths.size());
  // As in all_gather: each rank fills its own row of zeros, a sum gathers.
  const torch::Tensor rows = torch::zeros({size(), longest}, torch::kFloat64);
  write_bytes(bytes, rows.data_ptr<double>() + rank() * longest);
  all_reduce(rows, ReduceOp::sum);
  std::vector<std::string> gathered;
  for (int r = 0; r < size(); ++r)
    gathered.push_back(read_bytes(rows.data_ptr<double>() + r * longest, lengths[r]));
  return gathered;
}

std::string Communicator::broadcast_bytes(const std::string& bytes, int root) {
  const torch::Tensor length =
      torch::full({1}, rank() == root ? static_cast<double>(bytes.size()) : 0.0, torch::kFloat64);
  broadcast(length, root);
  const auto count = static_cast<std::int64_t>(length.item<double>());
  if (count == 0) return {};
  const torch::Tensor values = torch::zeros({count}, torch::kFloat64);
  if (rank() == root) write_bytes(bytes, values.data_ptr<double>());
  broadcast(values, root);
  return read_bytes(values.data_ptr<double>(), count);
}

}  // namespace loom::dist
