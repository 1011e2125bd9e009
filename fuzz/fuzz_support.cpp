#include "fuzz_support.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <typeinfo>

#include <unistd.h>

#include "loom/core/error.hpp"

namespace loom::fuzz {
namespace {

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "\nloom fuzz: %s\n", message.c_str());
  std::fflush(stderr);
  std::abort();
}

void remove_temp_dir() {
  std::error_code ignored;
  std::filesystem::remove_all(temp_dir(), ignored);
}

}  // namespace

void expect_loom_errors_only(const std::function<void()>& parse) {
  try {
    parse();
  } catch (const loom::Error& error) {
    // Refused as a parser should; an empty message would tell the user nothing.
    check(error.what()[0] != '\0', "a loom::Error with an empty message");
  } catch (const std::exception& error) {
    fail(std::string("a non-Loom exception escaped the parser: ") + typeid(error).name() + ": " +
         error.what());
  } catch (...) {
    fail("an exception that is not a std::exception escaped the parser");
  }
}

void check(bool condition, std::string_view what) {
  if (!condition) fail("check failed: " + std::string(what));
}

const std::filesystem::path& temp_dir() {
  static const std::filesystem::path dir = [] {
    std::error_code error;
    std::filesystem::path base = std::filesystem::temp_directory_path(error);
    if (error) base = "/tmp";
    std::filesystem::path made = base / ("loom-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(made, error);
    if (error) fail("cannot make " + made.string() + ": " + error.message());
    std::atexit(remove_temp_dir);
    return made;
  }();
  return dir;
}

void write_file(const std::filesystem::path& path, const std::uint8_t* data, std::size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) fail("cannot write " + path.string());
}

void write_file(const std::filesystem::path& path, std::string_view text) {
  write_file(path, reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

}  // namespace loom::fuzz
