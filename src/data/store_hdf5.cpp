// HDF5 identifiers, error reporting and root attributes for the token
// store; see store_hdf5.hpp.
#include "store_hdf5.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "loom/data/token_store.hpp"

namespace loom::data::store_detail {
namespace {

std::mutex& hdf5_mutex() {
  static std::mutex mutex;
  return mutex;
}

// A scalar attribute's dataspace must hold exactly one value.
void require_one_value(hid_t attribute, const char* name, const std::string& file) {
  Hid space = checked(H5Aget_space(attribute), H5Sclose, file,
                      fmt::format("cannot read attribute {}", name));
  const hssize_t points = H5Sget_simple_extent_npoints(space.get());
  if (points != 1) {
    throw StoreError(
        fmt::format("{}: attribute {} holds {} values; expected one", file, name, points));
  }
}

// HDF5 describes a failed system call in a line of many fields ("file
// write failed: time = ..., filename = ..., errno = 28, error message = 'No
// space left on device', buf = ..."); the errno's text is what a user
// needs, and the file is named already. Other details pass unchanged.
std::string system_error_text(const std::string& detail) {
  const std::string field = "error message = '";
  const std::size_t start = detail.find(field);
  if (start == std::string::npos) return detail;
  const std::size_t text_start = start + field.size();
  const std::size_t end = detail.find('\'', text_start);
  if (end == std::string::npos) return detail;
  const std::size_t summary_end = detail.find(':');
  const std::string summary = detail.substr(0, std::min(summary_end, start));
  return fmt::format("{}: {}", summary, detail.substr(text_start, end - text_start));
}

}  // namespace

Hid& Hid::operator=(Hid&& other) noexcept {
  if (this != &other) {
    close();
    id_ = other.id_;
    closer_ = other.closer_;
    other.id_ = -1;
  }
  return *this;
}

herr_t Hid::close() {
  herr_t status = 0;
  if (id_ >= 0 && closer_ != nullptr) status = closer_(id_);
  id_ = -1;
  return status;
}

Hdf5Session::Hdf5Session() : lock_(hdf5_mutex()) {
  // HDF5 1.10 keeps a file whose close failed (a full disk as it flushed)
  // half open, and its exit handler then crashes closing it again: a full
  // disk would end `loom prepare` with SIGSEGV after its error message. The
  // store closes every file it opens itself, so the handler has nothing
  // else to do. It must be switched off before the library starts.
  static std::once_flag no_exit_handler;
  std::call_once(no_exit_handler, [] { H5dont_atexit(); });
  H5Eget_auto2(H5E_DEFAULT, &saved_function_, &saved_data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

Hdf5Session::~Hdf5Session() {
  H5Eset_auto2(H5E_DEFAULT, saved_function_, saved_data_);
}

std::string hdf5_error_detail() {
  std::string detail;
  // Walking upward, the first record is the innermost one: where HDF5
  // detected the problem, with the most specific description.
  auto first_description = [](unsigned position, const H5E_error2_t* error, void* out) -> herr_t {
    if (position == 0 && error->desc != nullptr) *static_cast<std::string*>(out) = error->desc;
    return 0;
  };
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_description, &detail);
  return detail;
}

bool hdf5_error_has(hid_t minor) {
  struct Search {
    hid_t minor;
    bool found;
  } search{minor, false};
  auto match = [](unsigned, const H5E_error2_t* error, void* data) -> herr_t {
    auto* wanted = static_cast<Search*>(data);
    if (error->min_num == wanted->minor) wanted->found = true;
    return 0;
  };
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, match, &search);
  return search.found;
}

Hid checked(hid_t id, Hid::Closer closer, const std::string& file, const std::string& what) {
  check(id < 0 ? -1 : 0, file, what);
  return Hid(id, closer);
}

void check(herr_t status, const std::string& file, const std::string& what) {
  if (status >= 0) return;
  const std::string detail = system_error_text(hdf5_error_detail());
  throw StoreError(detail.empty() ? fmt::format("{}: {}", file, what)
                                  : fmt::format("{}: {} ({})", file, what, detail));
}

// The setting arrived in HDF5 1.10.7 and 1.12.1 (1.12.0 lacks it).
void use_file_locks_where_supported([[maybe_unused]] hid_t access,
                                    [[maybe_unused]] const std::string& file,
                                    [[maybe_unused]] const std::string& what) {
#if H5_VERSION_GE(1, 12, 1) || (H5_VERS_MINOR == 10 && H5_VERSION_GE(1, 10, 7))
  check(H5Pset_file_locking(access, true, true), file, what);
#endif
}

void write_u32_attribute(hid_t location, const char* name, std::uint32_t value,
                         const std::string& file) {
  const std::string what = fmt::format("cannot write attribute {}", name);
  Hid space = checked(H5Screate(H5S_SCALAR), H5Sclose, file, what);
  Hid attribute =
      checked(H5Acreate2(location, name, H5T_STD_U32LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
              H5Aclose, file, what);
  check(H5Awrite(attribute.get(), H5T_NATIVE_UINT32, &value), file, what);
}

void write_string_attribute(hid_t location, const char* name, const std::string& value,
                            const std::string& file) {
  const std::string what = fmt::format("cannot write attribute {}", name);
  Hid type = checked(H5Tcopy(H5T_C_S1), H5Tclose, file, what);
  check(H5Tset_size(type.get(), H5T_VARIABLE), file, what);
  check(H5Tset_cset(type.get(), H5T_CSET_UTF8), file, what);
  Hid space = checked(H5Screate(H5S_SCALAR), H5Sclose, file, what);
  Hid attribute =
      checked(H5Acreate2(location, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
              H5Aclose, file, what);
  const char* text = value.c_str();
  check(H5Awrite(attribute.get(), type.get(), &text), file, what);
}

std::uint32_t read_u32_attribute(hid_t location, const char* name, const std::string& file) {
  const std::string what = fmt::format("cannot read attribute {}", name);
  Hid attribute = checked(H5Aopen(location, name, H5P_DEFAULT), H5Aclose, file, what);
  Hid type = checked(H5Aget_type(attribute.get()), H5Tclose, file, what);
  if (H5Tget_class(type.get()) != H5T_INTEGER) {
    throw StoreError(fmt::format("{}: attribute {} is not an integer", file, name));
  }
  require_one_value(attribute.get(), name, file);
  std::uint32_t value = 0;
  check(H5Aread(attribute.get(), H5T_NATIVE_UINT32, &value), file, what);
  return value;
}

std::string read_string_attribute(hid_t location, const char* name, const std::string& file) {
  const std::string what = fmt::format("cannot read attribute {}", name);
  Hid attribute = checked(H5Aopen(location, name, H5P_DEFAULT), H5Aclose, file, what);
  Hid stored_type = checked(H5Aget_type(attribute.get()), H5Tclose, file, what);
  if (H5Tget_class(stored_type.get()) != H5T_STRING) {
    throw StoreError(fmt::format("{}: attribute {} is not a string", file, name));
  }
  require_one_value(attribute.get(), name, file);
  // Read in the stored character set: HDF5 does not convert between them.
  Hid memory_type = checked(H5Tcopy(H5T_C_S1), H5Tclose, file, what);
  check(H5Tset_cset(memory_type.get(), H5Tget_cset(stored_type.get())), file, what);
  if (H5Tis_variable_str(stored_type.get()) > 0) {
    check(H5Tset_size(memory_type.get(), H5T_VARIABLE), file, what);
    char* text = nullptr;
    check(H5Aread(attribute.get(), memory_type.get(), &text), file, what);
    std::string value = text != nullptr ? text : "";
    H5free_memory(text);
    return value;
  }
  const std::size_t size = H5Tget_size(stored_type.get());
  check(H5Tset_size(memory_type.get(), size), file, what);
  check(H5Tset_strpad(memory_type.get(), H5T_STR_NULLPAD), file, what);
  std::vector<char> text(size);
  check(H5Aread(attribute.get(), memory_type.get(), text.data()), file, what);
  std::string value(text.begin(), text.end());
  return value.substr(0, value.find('\0'));
}

}  // namespace loom::data::store_detail
