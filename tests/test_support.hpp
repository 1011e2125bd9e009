// Helpers shared by the test suites: temporary folders that clean up after
// themselves, writing, reading and listing files, running the built `loom`
// binary, and waiting with a deadline.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sys/wait.h>

namespace loom::test {

// The what() of the exception `call` throws; fails the test when it throws
// nothing or something that is not an E.
template <class E>
std::string error_message(const std::function<void()>& call) {
  try {
    call();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw the wrong type: " << e.what();
    return {};
  }
  ADD_FAILURE() << "threw nothing";
  return {};
}

// Asks `done` every `interval` until it says true; false once `timeout` has
// passed without. Tests wait for what they expect this way, never by
// sleeping for a guessed time, so a slow machine makes them slower, not red.
template <class Done>
bool poll_until(Done done, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = std::chrono::milliseconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
  return true;
}

// Runs `work` on a thread of its own and waits at most `timeout` for it to
// end: true when it did. When it did not (a deadlock, say), the thread is
// left behind, detached, so that the test fails instead of hanging with it;
// `work` must therefore own what it uses (captured by value or shared_ptr).
inline bool finishes_within(std::chrono::milliseconds timeout, std::function<void()> work) {
  std::packaged_task<void()> task(std::move(work));
  std::future<void> ended = task.get_future();
  std::thread(std::move(task)).detach();
  if (ended.wait_for(timeout) != std::future_status::ready) return false;
  ended.get();  // rethrows what `work` threw
  return true;
}

class TempDir {
 public:
  TempDir() {
    std::random_device random;
    path_ = std::filesystem::temp_directory_path() /
            ("loom-test-" + std::to_string(random()) + "-" + std::to_string(random()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::string write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The names of what `folder` holds (files and folders), sorted.
inline std::vector<std::string> entries_of(const std::filesystem::path& folder) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(folder))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs a shell command line with stdout and stderr captured apart.
inline CommandResult run_command(const std::string& command_line) {
  TempDir scratch;
  const std::string out = scratch.file("stdout");
  const std::string err = scratch.file("stderr");
  const std::string command = command_line + " >'" + out + "' 2>'" + err + "'";
  const int status = std::system(command.c_str());
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = read_file(out);
  result.err = read_file(err);
  return result;
}

// Runs `loom ARGS` as a user would.
inline CommandResult run_loom(const std::string& args) {
  return run_command(std::string("'") + LOOM_BINARY + "' " + args);
}

// Runs `loom-synth ARGS`.
inline CommandResult run_synth(const std::string& args) {
  return run_command(std::string("'") + LOOM_SYNTH_BINARY + "' " + args);
}

}  // namespace loom::test
