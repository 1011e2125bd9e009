// Private to the serve module: OpenAI's API (GET /v1/models, GET
// /v1/models/ID, POST /v1/completions, POST /v1/chat/completions) on the
// server's httplib::Server, generating through its ServerCore.
#pragma once

#include "server_core.hpp"
#include <httplib.h>

namespace loom::serve::detail {

// Adds the routes; `core` must outlive `http`.
void add_openai_routes(httplib::Server& http, ServerCore& core);

}  // namespace loom::serve::detail
