// `loom serve RUN|CHECKPOINT`: the model behind the HTTP API and the
// playground page until Ctrl-C or SIGTERM, which stop it cleanly (exit 0).
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "command.hpp"
#include "inference_precision.hpp"
#include <fmt/format.h>
#include <pthread.h>

#include "loom/core/error.hpp"
#include "loom/core/log.hpp"
#include "loom/run_dir/run_model.hpp"
#include "loom/serve/generation_server.hpp"
#include "loom/train/compute_setup.hpp"

namespace loom::cli {
namespace {

struct ServeArgs {
  std::string run;
  bool best = false;
  std::string host = "127.0.0.1";
  int port = 8000;
  std::int64_t threads = 0;
  std::string precision;  // --precision; empty: the run's train.precision
  serve::ServeLimits limits;
};

// SIGINT and SIGTERM stop the server. They are blocked first thing, before
// LibTorch or the server start any thread (threads inherit the mask), so no
// thread is ever interrupted by them or killed by their default action; a
// thread of StopOnSignal's takes them with sigwait(), also one that came
// while the model was loading. They stay blocked until the process ends: a
// second Ctrl-C while the server winds down changes nothing.
sigset_t stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

class StopOnSignal {
 public:
  explicit StopOnSignal(serve::GenerationServer& server) {
    waiter_ = std::thread([this, &server] {
      const sigset_t signals = stop_signals();
      int received = 0;
      sigwait(&signals, &received);
      if (!done_) std::fprintf(stderr, "\n%s: stopping the server\n", strsignal(received));
      server.stop();
    });
  }

  ~StopOnSignal() {
    // The server stopped for another reason (or never started): wake the
    // waiter with a signal of its own so it can be joined.
    done_ = true;
    if (waiter_.joinable()) {
      pthread_kill(waiter_.native_handle(), SIGTERM);
      waiter_.join();
    }
  }

  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;

 private:
  std::atomic<bool> done_{false};
  std::thread waiter_;
};

bool is_loopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1";
}

ExitCode run_serve(const ServeArgs& args) {
  const sigset_t signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  if (args.port < 0 || args.port > 65535)
    throw UsageError(fmt::format("--port must be from 0 to 65535, got {}", args.port));
  if (args.limits.max_tokens < 1)
    throw UsageError(
        fmt::format("--max-tokens must be at least 1, got {}", args.limits.max_tokens));
  if (args.limits.max_concurrent < 1) {
    throw UsageError(
        fmt::format("--max-concurrent must be at least 1, got {}", args.limits.max_concurrent));
  }
  if (args.limits.max_body_bytes < 1024) {
    throw UsageError(
        fmt::format("--max-body must be at least 1024 bytes, got {}", args.limits.max_body_bytes));
  }

  train::configure_cpu_threads(args.threads, /*local_ranks=*/1);
  run_dir::TrainedModel trained = run_dir::load_run_model(args.run, args.best);
  const std::filesystem::path& checkpoint = trained.info.dir;
  serve::ServedModel served;
  served.model = trained.model;
  served.tokenizer = std::move(trained.tokenizer);
  const InferencePrecision precision =
      inference_precision(args.precision, trained.info.config, torch::kCPU);
  served.autocast_dtype = precision.autocast;
  served.about = {{"name", trained.info.config.run.name},
                  {"checkpoint", checkpoint.string()},
                  {"step", trained.info.state.step}};
  serve::GenerationServer server(std::move(served), args.limits);

  const int port = server.bind(args.host, args.port);
  if (!is_loopback(args.host)) {
    log::warn(
        "listening on {}: anyone who can reach this machine on port {} can use the model (there "
        "is no authentication)",
        args.host, port);
  }
  const std::string shown_host =
      args.host.find(':') == std::string::npos ? args.host : fmt::format("[{}]", args.host);
  // Scripts (and the tests) read the address from this line.
  std::printf("serving %s (step %lld) at http://%s:%d/\n", checkpoint.string().c_str(),
              static_cast<long long>(trained.info.state.step), shown_host.c_str(), port);
  std::printf("generating in %s\n", precision.description.c_str());
  std::fflush(stdout);
  {
    StopOnSignal stop_on_signal(server);
    server.serve();
  }
  std::printf("server stopped\n");
  return ExitCode::kOk;
}

}  // namespace

void add_serve_command(CLI::App& app, Command& selected) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* command = app.add_subcommand(
      "serve", "serve a run's model over HTTP: a JSON API and a playground page");
  command->add_option("run", args->run, "run directory, or one checkpoint folder")->required();
  command->add_flag("--best", args->best, "use the run's best-validation checkpoint");
  add_precision_option(*command, args->precision);
  command
      ->add_option("--host", args->host,
                   "address to listen on; 0.0.0.0 opens the server to the network")
      ->capture_default_str();
  command->add_option("--port", args->port, "port to listen on; 0 picks a free one")
      ->capture_default_str();
  command
      ->add_option("--max-tokens", args->limits.max_tokens,
                   "the most tokens one request may ask for")
      ->capture_default_str();
  command
      ->add_option("--max-concurrent", args->limits.max_concurrent,
                   "generations at once; more are refused with 503")
      ->capture_default_str();
  command
      ->add_option("--max-body", args->limits.max_body_bytes,
                   "largest request body in bytes; larger ones are refused with 413")
      ->capture_default_str();
  command
      ->add_option("--write-timeout", args->limits.write_timeout_seconds,
                   "seconds a client may read nothing before its generation is dropped")
      ->capture_default_str();
  command->add_option("--threads", args->threads, "CPU threads for LibTorch; 0 = all cores")
      ->capture_default_str();
  command->callback([&selected, args] { selected = [args] { return run_serve(*args); }; });
}

}  // namespace loom::cli
