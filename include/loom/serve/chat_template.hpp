// How /v1/chat/completions turns a chat (a list of messages with roles)
// into the text the model continues, and where the model's answer ends.
// A Loom model knows no roles, only the text it was trained on, so the
// layout should be that text's:
//
//   lines   one line per message, "name: text\n": what `loom prepare`
//           writes for Discord and Telegram exports with author_prefix.
//           The answer starts after "assistant_name: " and ends at the
//           line's end.
//   blocks  "NAME:\n", the text, a blank line: a play's layout (Tiny
//           Shakespeare). The answer starts after "assistant_name:\n" and
//           ends at the blank line.
//
// A message's "name" (OpenAI's optional field) is its speaker; without one,
// a user message is user_name's and an assistant message
// assistant_name's. An empty name writes no speaker (a chat export
// prepared without author_prefix: one message per line, no names). A
// system message is its text alone, as a line or a block. The run's `chat:` config section picks
// the layout and names; `loom serve` flags override them.
#pragma once

#include <string>
#include <vector>

#include "loom/config/config.hpp"

namespace loom::serve {

struct ChatMessage {
  std::string role;  // system, user or assistant
  std::string content;
  std::string name;  // empty: the template's name for the role
};

class ChatTemplate {
 public:
  // Throws loom::UsageError for a name that holds a line break (it would
  // split the message it names). `kind` may not be automatic.
  ChatTemplate(config::ChatTemplateKind kind, std::string user_name, std::string assistant_name);

  // The run's chat section, auto resolved from its prepare section.
  static ChatTemplate from_config(const config::Config& config);

  // The chat laid out, then the opening of the assistant's answer.
  // Throws BadRequest for a role other than system, user or assistant, or
  // a name with a line break.
  std::string prompt(const std::vector<ChatMessage>& messages) const;

  // What ends a message: the answer is cut there.
  std::string end_of_message() const;

  config::ChatTemplateKind kind() const { return kind_; }
  const std::string& user_name() const { return user_name_; }
  const std::string& assistant_name() const { return assistant_name_; }

 private:
  std::string message_text(const std::string& name, const std::string& content) const;

  config::ChatTemplateKind kind_;
  std::string user_name_;
  std::string assistant_name_;
};

}  // namespace loom::serve
