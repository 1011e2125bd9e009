#include "loom/serve/chat_template.hpp"

#include <utility>

#include <fmt/format.h>

#include "loom/config/enums.hpp"
#include "loom/core/error.hpp"
#include "loom/serve/generate_request.hpp"

namespace loom::serve {
namespace {

using config::ChatTemplateKind;

bool has_line_break(const std::string& text) {
  return text.find_first_of("\r\n") != std::string::npos;
}

// An empty name is allowed: messages without a speaker, as a chat export
// prepared without author_prefix has them.
void check_name(const char* what, const std::string& name) {
  if (has_line_break(name)) {
    throw UsageError(
        fmt::format("the chat template's {} must be on one line, got \"{}\"", what, name));
  }
}

}  // namespace

ChatTemplate::ChatTemplate(ChatTemplateKind kind, std::string user_name, std::string assistant_name)
    : kind_(kind), user_name_(std::move(user_name)), assistant_name_(std::move(assistant_name)) {
  if (kind_ == ChatTemplateKind::automatic) {
    throw UsageError("a chat template must be lines or blocks (auto is resolved from the run)");
  }
  check_name("user_name", user_name_);
  check_name("assistant_name", assistant_name_);
}

ChatTemplate ChatTemplate::from_config(const config::Config& config) {
  ChatTemplateKind kind = config.chat.template_kind;
  if (kind == ChatTemplateKind::automatic) {
    kind = config.prepare.author_prefix ? ChatTemplateKind::lines : ChatTemplateKind::blocks;
  }
  return ChatTemplate(kind, config.chat.user_name, config.chat.assistant_name);
}

std::string ChatTemplate::end_of_message() const {
  return kind_ == ChatTemplateKind::lines ? "\n" : "\n\n";
}

std::string ChatTemplate::message_text(const std::string& name, const std::string& content) const {
  if (name.empty()) return content + end_of_message();
  return kind_ == ChatTemplateKind::lines ? fmt::format("{}: {}\n", name, content)
                                          : fmt::format("{}:\n{}\n\n", name, content);
}

std::string ChatTemplate::prompt(const std::vector<ChatMessage>& messages) const {
  std::string text;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const ChatMessage& message = messages[i];
    const std::string param = fmt::format("messages[{}]", i);
    if (has_line_break(message.name)) {
      throw BadRequest(fmt::format("{}.name must be on one line, got \"{}\"", param, message.name),
                       param + ".name");
    }
    std::string speaker;
    if (message.role == "user") {
      speaker = message.name.empty() ? user_name_ : message.name;
    } else if (message.role == "assistant") {
      speaker = message.name.empty() ? assistant_name_ : message.name;
    } else if (message.role != "system" && message.role != "developer") {
      throw BadRequest(fmt::format("{}.role must be system, developer, user or assistant, got "
                                   "\"{}\" (Loom's models call no tools)",
                                   param, message.role),
                       param + ".role");
    }
    text += message_text(speaker, message.content);
  }
  if (assistant_name_.empty()) return text;
  return text +
         (kind_ == ChatTemplateKind::lines ? assistant_name_ + ": " : assistant_name_ + ":\n");
}

}  // namespace loom::serve
