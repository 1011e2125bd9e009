// Full disks: `loom train`, `loom prepare` and `loom export` writing onto a
// file system that fills up midway. Each ends with exit code 1 and an error
// naming the file and "No space left on device"; what was there before (a
// checkpoint, a store, an export) is left intact and loadable, and nothing
// half written is left under a final name. The file system is a small tmpfs
// each test mounts, so they need root (label root) and skip elsewhere.
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "test_support.hpp"
#include "tiny_run.hpp"
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace loom {
namespace {

using namespace loom::test;

namespace fs = std::filesystem;

constexpr const char* kNoSpace = "No space left on device";

// A tmpfs of `bytes` mounted on `dir` (made here) for the object's life:
// unmounted by the destructor, so a failed assertion leaves no mount behind.
class TmpfsMount {
 public:
  TmpfsMount(fs::path dir, std::uint64_t bytes) : dir_(std::move(dir)) {
    fs::create_directories(dir_);
    const std::string options = fmt::format("size={}", bytes);
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
      error_ = std::strerror(errno);
      return;
    }
    mounted_ = true;
  }
  ~TmpfsMount() {
    if (!mounted_) return;
    // A process the test started may still hold a file there (it failed):
    // detach then, the kernel unmounts once it lets go.
    if (::umount2(dir_.c_str(), 0) != 0) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  const fs::path& dir() const { return dir_; }

 private:
  fs::path dir_;
  bool mounted_ = false;
  std::string error_;
};

std::uint64_t free_bytes(const fs::path& dir) {
  struct statvfs stats {};
  if (::statvfs(dir.c_str(), &stats) != 0) return 0;
  return static_cast<std::uint64_t>(stats.f_bavail) * stats.f_frsize;
}

// Takes all the free space of `dir`'s file system but `left` bytes, with a
// file named `name`.
void fill_leaving(const fs::path& dir, std::uint64_t left, const std::string& name = "filler") {
  const std::uint64_t available = free_bytes(dir);
  ASSERT_GT(available, left) << dir.string();
  const fs::path filler = dir / name;
  const int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << filler.string() << ": " << std::strerror(errno);
  const int error = ::posix_fallocate(fd, 0, static_cast<off_t>(available - left));
  ::close(fd);
  ASSERT_EQ(error, 0) << filler.string() << ": " << std::strerror(error);
}

// Every file under `dir` with its bytes, to compare before and after.
std::vector<std::pair<std::string, std::string>> contents_of(const fs::path& dir) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    files.emplace_back(fs::relative(entry.path(), dir).string(), read_file(entry.path().string()));
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Everything under `dir` whose name says it is a temporary file or folder.
std::vector<std::string> temporaries_under(const fs::path& dir) {
  std::vector<std::string> found;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    const bool temporary = name.rfind(".tmp", 0) == 0 ||
                           (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0);
    if (temporary) found.push_back(entry.path().string());
  }
  return found;
}

class FullDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  }

  // Mounts a tmpfs of `bytes` at <temp>/disk; skips the test where it
  // cannot (no mount allowed here, as in many containers).
  void mount_disk(std::uint64_t bytes) {
    disk_ = std::make_unique<TmpfsMount>(dir_.path() / "disk", bytes);
    if (!disk_->mounted()) {
      GTEST_SKIP() << "cannot mount a tmpfs on " << disk_->dir().string() << ": " << disk_->error();
    }
  }

  const fs::path& disk() const { return disk_->dir(); }

  TempDir dir_;
  const std::string config_ = dir_.file("tiny.yaml");
  std::unique_ptr<TmpfsMount> disk_;  // destroyed before dir_: unmounted, then removed
};

// The tiny run's checkpoints take ~380 KB each; the disk holds a few, then
// is filled but for 128 KB: enough for metrics.jsonl, the samples and the
// loss plot of the steps that follow, not for the next checkpoint.
TEST_F(FullDisk, TrainingKeepsThePreviousCheckpointAndResumesFromItOnceThereIsRoom) {
  const CommandResult prepared = prepare_tiny_run_with_loom(dir_.path().string(), config_);
  ASSERT_EQ(prepared.exit_code, 0) << prepared.err;
  mount_disk(4 << 20);
  if (IsSkipped()) return;
  const fs::path run = disk() / "runs" / "tiny";
  const fs::path checkpoints = run / "checkpoints";
  const std::string train =
      fmt::format("train '{}' --set run.out_dir='{}'", config_, (disk() / "runs").string());

  const CommandResult first = run_loom(train + " --set train.max_iters=6");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_TRUE(fs::exists(checkpoints / "step-00000006"));
  const std::vector<std::string> kept = entries_of(checkpoints);
  const auto kept_bytes = contents_of(checkpoints);

  fill_leaving(disk(), 128 << 10);
  if (HasFatalFailure()) return;
  const CommandResult full = run_loom(train);
  EXPECT_EQ(full.exit_code, 1) << full.err;
  // The file that met the full disk, in the checkpoint's temporary folder.
  EXPECT_NE(full.err.find("error: " + (checkpoints / ".tmp-step-").string()), std::string::npos)
      << full.err;
  EXPECT_NE(full.err.find(std::string(": cannot write (") + kNoSpace + ")"), std::string::npos)
      << full.err;
  // Nothing written for the failed step, not even a temporary folder; the
  // checkpoints before it byte for byte as they were.
  EXPECT_EQ(entries_of(checkpoints), kept);
  EXPECT_EQ(contents_of(checkpoints), kept_bytes);
  EXPECT_EQ(temporaries_under(run), std::vector<std::string>{});

  const CommandResult sampled =
      run_loom(fmt::format("sample '{}' --tokens 8 --seed 1", run.string()));
  EXPECT_EQ(sampled.exit_code, 0) << sampled.err;
  EXPECT_NE(sampled.err.find("step-00000006"), std::string::npos) << sampled.err;

  fs::remove(disk() / "filler");
  const CommandResult resumed = run_loom(train);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_TRUE(fs::exists(checkpoints / "step-00000012"));
  const std::vector<double> losses = logged_losses((run / "metrics.jsonl").string());
  EXPECT_EQ(losses.size(), 12U);  // steps 7.. of the failed run were dropped on resume
}

// A store of the tiny corpus takes ~26 KB on disk; one of 40 copies of it
// ~650 KB, and as much again in the writer's scratch files while it copies
// them into the store: the 1 MB disk holds the scratch files and fails in
// HDF5's writes (or, on the way, in the scratch files' own).
TEST_F(FullDisk, PrepareLeavesNoStoreOrThePreviousOneIntact) {
  std::string big_corpus;
  for (int copy = 0; copy < 40; ++copy)
    big_corpus += tiny_corpus();
  const std::string small = write_file(dir_.file("small.txt"), tiny_corpus());
  const std::string big = write_file(dir_.file("big.txt"), big_corpus);
  mount_disk(1 << 20);
  if (IsSkipped()) return;
  const std::string store = (disk() / "corpus.h5").string();
  const auto prepare = [&](const std::string& corpus, const std::string& flags = "") {
    return run_loom(fmt::format("prepare -i '{}' -o '{}' --progress none{}", corpus, store, flags));
  };

  const CommandResult too_big = prepare(big);
  EXPECT_EQ(too_big.exit_code, 1) << too_big.err;
  EXPECT_NE(too_big.err.find("error: " + store), std::string::npos) << too_big.err;
  EXPECT_NE(too_big.err.find(kNoSpace), std::string::npos) << too_big.err;
  EXPECT_EQ(entries_of(disk()), std::vector<std::string>{});

  const CommandResult fits = prepare(small);
  ASSERT_EQ(fits.exit_code, 0) << fits.err;
  const std::string stored = read_file(store);
  const CommandResult inspected = run_loom("inspect '" + store + "'");
  ASSERT_EQ(inspected.exit_code, 0) << inspected.err;

  const CommandResult replacing = prepare(big, " --force");
  EXPECT_EQ(replacing.exit_code, 1) << replacing.err;
  EXPECT_NE(replacing.err.find("error: " + store), std::string::npos) << replacing.err;
  EXPECT_NE(replacing.err.find(kNoSpace), std::string::npos) << replacing.err;
  EXPECT_EQ(entries_of(disk()), std::vector<std::string>{"corpus.h5"});
  EXPECT_EQ(read_file(store), stored);
  const CommandResult reinspected = run_loom("inspect '" + store + "'");
  EXPECT_EQ(reinspected.exit_code, 0) << reinspected.err;
  EXPECT_EQ(reinspected.out, inspected.out);
}

// The tiny model's model.safetensors is ~106 KB: one export fits the
// 256 KB disk, and with the rest filled but 32 KB a second does not.
class FullDiskExport : public FullDisk {
 protected:
  void SetUp() override {
    FullDisk::SetUp();
    if (IsSkipped()) return;
    const CommandResult trained = train_tiny_run_with_loom(dir_.path().string(), config_);
    ASSERT_EQ(trained.exit_code, 0) << trained.err;
  }

  CommandResult export_to(const fs::path& out, const std::string& flags = "") const {
    return run_loom(
        fmt::format("export '{}' --out '{}'{}", dir_.file("runs/tiny"), out.string(), flags));
  }
};

TEST_F(FullDiskExport, LeavesNoExportOrThePreviousOneIntact) {
  mount_disk(256 << 10);
  if (IsSkipped()) return;
  const fs::path out = disk() / "exported";
  const CommandResult first = export_to(out);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto exported = contents_of(out);

  fill_leaving(disk(), 32 << 10);
  if (HasFatalFailure()) return;
  const std::string expected_error =
      fmt::format("error: {}.tmp/model.safetensors: cannot write ({})\n", out.string(), kNoSpace);
  const CommandResult replacing = export_to(out, " --force");
  EXPECT_EQ(replacing.exit_code, 1) << replacing.err;
  EXPECT_EQ(replacing.err, expected_error);
  EXPECT_EQ(entries_of(disk()), (std::vector<std::string>{"exported", "filler"}));
  EXPECT_EQ(contents_of(out), exported);

  const fs::path other = disk() / "other";
  const CommandResult elsewhere = export_to(other);
  EXPECT_EQ(elsewhere.exit_code, 1) << elsewhere.err;
  EXPECT_EQ(elsewhere.err, fmt::format("error: {}.tmp/model.safetensors: cannot write ({})\n",
                                       other.string(), kNoSpace));
  EXPECT_EQ(entries_of(disk()), (std::vector<std::string>{"exported", "filler"}));

  // The export left in place still loads: its header reads, its files are whole.
  fs::remove(disk() / "filler");
  const CommandResult again = export_to(disk() / "again");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(contents_of(disk() / "again"), exported);
}

}  // namespace
}  // namespace loom
