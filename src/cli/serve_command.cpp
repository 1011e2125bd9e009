// `loom serve RUN|CHECKPOINT`: the model behind the HTTP API and the
// playground page until Ctrl-C or SIGTERM, which stop it cleanly (exit 0).
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "command.hpp"
#include "inference_precision.hpp"
#include <fmt/format.h>
#include <pthread.h>

#include "loom/config/enums.hpp"
#include "loom/core/error.hpp"
#include "loom/core/log.hpp"
#include "loom/run_dir/run_model.hpp"
#include "loom/serve/chat_template.hpp"
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
  std::string api_key;  // --api-key, else $LOOM_API_KEY; empty: none
  // Override the run's chat section when given.
  std::string chat_template;
  std::string user_name;
  std::string assistant_name;
};

// The run's chat template, with serve's flags over its chat section.
serve::ChatTemplate chat_template(const ServeArgs& args, config::Config config) {
  if (!args.chat_template.empty()) {
    // CLI11 checked the word.
    config.chat.template_kind = *config::parse_enum<config::ChatTemplateKind>(args.chat_template);
  }
  if (!args.user_name.empty()) config.chat.user_name = args.user_name;
  if (!args.assistant_name.empty()) config.chat.assistant_name = args.assistant_name;
  return serve::ChatTemplate::from_config(config);
}

// --api-key, else the environment's LOOM_API_KEY (which keeps the key out
// of the process list).
std::string api_key(const ServeArgs& args) {
  if (!args.api_key.empty()) return args.api_key;
  const char* from_environment = std::getenv("LOOM_API_KEY");
  return from_environment ? from_environment : "";
}

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
  if (args.limits.max_choices < 1) {
    throw UsageError(
        fmt::format("--max-choices must be at least 1, got {}", args.limits.max_choices));
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
  served.id = trained.info.config.run.name;
  served.chat = chat_template(args, trained.info.config);
  const std::string key = api_key(args);
  serve::GenerationServer server(std::move(served), args.limits, key);

  const int port = server.bind(args.host, args.port);
  if (!is_loopback(args.host) && key.empty()) {
    log::warn(
        "listening on {} WITHOUT AN API KEY: anyone who can reach this machine on port {} can use "
        "the model; set --api-key or LOOM_API_KEY",
        args.host, port);
  }
  const std::string shown_host =
      args.host.find(':') == std::string::npos ? args.host : fmt::format("[{}]", args.host);
  // Scripts (and the tests) read the address from this line.
  std::printf("serving %s (step %lld) at http://%s:%d/\n", checkpoint.string().c_str(),
              static_cast<long long>(trained.info.state.step), shown_host.c_str(), port);
  std::printf("generating in %s\n", precision.description.c_str());
  std::printf("OpenAI's API: base_url http://%s:%d/v1, model \"%s\"%s\n", shown_host.c_str(), port,
              trained.info.config.run.name.c_str(), key.empty() ? "" : ", API key required");
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
  command
      ->add_option("--max-choices", args->limits.max_choices,
                   "the most texts one OpenAI request may ask for (prompts times n)")
      ->capture_default_str();
  command->add_option("--api-key", args->api_key,
                      "require \"Authorization: Bearer KEY\" of every request but the page's "
                      "(default: $LOOM_API_KEY; none when neither is set)");
  command
      ->add_option("--chat-template", args->chat_template,
                   "lines or blocks: how /v1/chat/completions lays out a chat (default: the "
                   "run's chat.template)")
      ->check(CLI::IsMember({"auto", "lines", "blocks"}));
  command->add_option("--user-name", args->user_name,
                      "the name on user messages without one (default: the run's chat.user_name)");
  command->add_option(
      "--assistant-name", args->assistant_name,
      "the name the model answers as in chats (default: the run's chat.assistant_name)");
  command->callback([&selected, args] { selected = [args] { return run_serve(*args); }; });
}

}  // namespace loom::cli
