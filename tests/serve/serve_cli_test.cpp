// `loom serve` as a user starts it, on a tiny run trained by the built
// `loom`: it prints its address, answers with the same text `loom sample`
// prints for the same settings, stops cleanly on SIGTERM and on SIGINT, and
// refuses bad flags (exit 2) and a port in use (exit 1) with messages.
#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tiny_run.hpp"
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace loom::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// `loom serve ARGS` in a child process, its output in files.
class ServeProcess {
 public:
  ServeProcess(const TempDir& dir, std::vector<std::string> args)
      : out_(dir.file("serve.out")), err_(dir.file("serve.err")) {
    args.insert(args.begin(), {LOOM_BINARY, "serve"});
    std::vector<char*> argv;  // built before fork: the child only execs
    for (std::string& arg : args)
      argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), STDOUT_FILENO);
      dup2(::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), STDERR_FILENO);
      execv(LOOM_BINARY, argv.data());
      _exit(127);
    }
  }

  ~ServeProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  // The port from the "serving ... at http://HOST:PORT/" line (HOST with
  // its dots, e.g. "0.0.0.0"); 0 when the process ended or 60 s went by
  // without it.
  int wait_for_port(const std::string& host = "127.0.0.1") {
    const std::regex address("at http://" + std::regex_replace(host, std::regex("\\."), "\\.") +
                             ":(\\d+)/");
    int port = 0;
    poll_until(
        [&] {
          std::smatch match;
          const std::string out = read_file(out_);
          if (std::regex_search(out, match, address)) port = std::stoi(match[1]);
          if (port == 0 && waitpid(pid_, &status_, WNOHANG) == pid_) pid_ = -1;
          return port != 0 || pid_ == -1;
        },
        60s, 20ms);
    return port;
  }

  // Sends `signal` (if still running) and returns the exit code, -1 when
  // killed by a signal.
  int finish(int signal) {
    if (pid_ > 0) {
      kill(pid_, signal);
      waitpid(pid_, &status_, 0);
      pid_ = -1;
    }
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
  }

  std::string out() const { return read_file(out_); }
  std::string err() const { return read_file(err_); }

 private:
  std::string out_;
  std::string err_;
  pid_t pid_ = -1;
  int status_ = 0;
};

class ServeCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    const CommandResult trained =
        train_tiny_run_with_loom(dir_->path().string(), dir_->file("tiny.yaml"));
    ASSERT_EQ(trained.exit_code, 0) << trained.err;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static std::string run_dir() { return dir_->file("runs/tiny"); }

  static inline TempDir* dir_ = nullptr;
  TempDir scratch_;
};

TEST_F(ServeCli, AnswersAsLoomSampleAndStopsCleanlyOnSigterm) {
  ServeProcess server(scratch_, {run_dir(), "--port", "0", "--max-tokens", "500"});
  const int port = server.wait_for_port();
  ASSERT_GT(port, 0) << server.err();
  EXPECT_NE(server.out().find("serving " + run_dir() + "/checkpoints/step-00000012 (step 12)"),
            std::string::npos)
      << server.out();

  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(60, 0);
  const httplib::Result model = client.Get("/v1/model");
  ASSERT_TRUE(model);
  const json info = json::parse(model->body);
  EXPECT_EQ(info["name"], "tiny");
  EXPECT_EQ(info["step"], 12);
  EXPECT_EQ(info["limits"]["max_tokens"], 500);

  const json body = {{"prompt", "the king"}, {"max_tokens", 60}, {"seed", 21},
                     {"temperature", 0.8},   {"top_k", 5},       {"stop_at_eos", false}};
  const httplib::Result reply = client.Post("/v1/generate", body.dump(), "application/json");
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  const CommandResult sampled =
      run_loom("sample '" + run_dir() +
               "' --prompt 'the king' --tokens 60 --seed 21 --temperature 0.8 --top-k 5 "
               "--no-eos-stop");
  ASSERT_EQ(sampled.exit_code, 0) << sampled.err;
  EXPECT_EQ(sampled.out, "the king" + json::parse(reply->body)["text"].get<std::string>() + "\n");

  EXPECT_EQ(server.finish(SIGTERM), 0) << server.err();
  EXPECT_NE(server.out().find("server stopped"), std::string::npos);
  EXPECT_NE(server.err().find("Terminated: stopping the server"), std::string::npos)
      << server.err();
}

// Issue 22's layouts serve too: a run with rotary positions, RMSNorm, SwiGLU
// and QK-norm answers an OpenAI completion past its context as `loom sample`.
TEST_F(ServeCli, AModernLayoutRunAnswersAsLoomSample) {
  const CommandResult trained =
      run_loom("train '" + dir_->file("tiny.yaml") +
               "' --set run.name=modern --set model.positions=rope --set model.norm=rmsnorm "
               "--set model.mlp=swiglu --set model.qk_norm=true");
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  const std::string run = dir_->file("runs/modern");
  ServeProcess server(scratch_, {run, "--port", "0"});
  const int port = server.wait_for_port();
  ASSERT_GT(port, 0) << server.err();
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(60, 0);
  const json body = {{"model", "modern"},
                     {"prompt", "my lord"},
                     {"max_tokens", 50},
                     {"seed", 8},
                     {"temperature", 0.9}};
  const httplib::Result reply = client.Post("/v1/completions", body.dump(), "application/json");
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  const CommandResult sampled =
      run_loom("sample '" + run + "' --prompt 'my lord' --tokens 50 --seed 8 --temperature 0.9");
  ASSERT_EQ(sampled.exit_code, 0) << sampled.err;
  EXPECT_EQ(sampled.out,
            "my lord" + json::parse(reply->body)["choices"][0]["text"].get<std::string>() + "\n");
  EXPECT_EQ(server.finish(SIGTERM), 0) << server.err();
}

TEST_F(ServeCli, CtrlCStopsTheServerWithExitCodeZero) {
  ServeProcess server(scratch_, {run_dir(), "--port", "0"});
  ASSERT_GT(server.wait_for_port(), 0) << server.err();
  EXPECT_EQ(server.finish(SIGINT), 0) << server.err();
  EXPECT_NE(server.err().find("Interrupt: stopping the server"), std::string::npos) << server.err();
}

TEST_F(ServeCli, APortInUseIsAnErrorNamingTheAddress) {
  ServeProcess first(scratch_, {run_dir(), "--port", "0"});
  const int port = first.wait_for_port();
  ASSERT_GT(port, 0) << first.err();
  const CommandResult second = run_loom("serve '" + run_dir() + "' --port " + std::to_string(port));
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("cannot listen on 127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << second.err;
}

TEST_F(ServeCli, BadFlagsExitWithCodeTwoBeforeLoadingAnything) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--port 70000", "--port must be from 0 to 65535, got 70000"},
      {"--max-concurrent 0", "--max-concurrent must be at least 1, got 0"},
      {"--max-tokens 0", "--max-tokens must be at least 1, got 0"},
      {"--max-body 10", "--max-body must be at least 1024 bytes, got 10"},
  };
  for (const auto& [flags, message] : cases) {
    const CommandResult result = run_loom("serve '" + run_dir() + "' " + flags);
    EXPECT_EQ(result.exit_code, 2) << flags;
    EXPECT_NE(result.err.find(message), std::string::npos) << flags << ": " << result.err;
  }
  const CommandResult missing = run_loom("serve '" + dir_->file("no-such-run") + "'");
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
}

TEST_F(ServeCli, AnAddressOtherThanLoopbackIsServedWithAWarning) {
  ServeProcess server(scratch_, {run_dir(), "--port", "0", "--host", "0.0.0.0"});
  const int port = server.wait_for_port("0.0.0.0");
  ASSERT_NE(port, 0) << server.err();
  EXPECT_NE(
      server.err().find("listening on 0.0.0.0 WITHOUT AN API KEY: anyone who can reach "
                        "this machine on port " +
                        std::to_string(port) + " can use the model; set --api-key or LOOM_API_KEY"),
      std::string::npos)
      << server.err();
  httplib::Client client("127.0.0.1", port);
  const httplib::Result health = client.Get("/v1/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(server.finish(SIGTERM), 0);
}

TEST_F(ServeCli, AnApiKeyFromTheEnvironmentClosesTheServerWithoutAWarning) {
  // The child inherits the environment as it is at fork.
  setenv("LOOM_API_KEY", "from-env", 1);
  ServeProcess server(scratch_, {run_dir(), "--port", "0", "--host", "0.0.0.0"});
  unsetenv("LOOM_API_KEY");
  const int port = server.wait_for_port("0.0.0.0");
  ASSERT_NE(port, 0) << server.err();
  EXPECT_EQ(server.err().find("WITHOUT AN API KEY"), std::string::npos) << server.err();
  EXPECT_NE(server.out().find("OpenAI's API: base_url http://0.0.0.0:" + std::to_string(port) +
                              "/v1, model \"tiny\", API key required\n"),
            std::string::npos)
      << server.out();
  httplib::Client client("127.0.0.1", port);
  const httplib::Result refused = client.Get("/v1/models");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  const httplib::Result allowed = client.Get("/v1/models", {{"Authorization", "Bearer from-env"}});
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->status, 200);
  EXPECT_EQ(json::parse(allowed->body)["data"][0]["id"], "tiny");
  EXPECT_EQ(server.finish(SIGTERM), 0);
}

}  // namespace
}  // namespace loom::test
