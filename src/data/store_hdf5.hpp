// The token store's thin layer over HDF5's C API, shared by its writer and
// reader: identifiers that close themselves, a guard that keeps HDF5 quiet
// while the store talks to it, failures turned into StoreErrors that name
// the file, file locking that tolerates file systems without it, and the
// two kinds of root attribute the store keeps (uint32 scalars and UTF-8
// strings).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include <hdf5.h>

namespace loom::data::store_detail {

// An HDF5 identifier, closed with its own close function when this goes out
// of scope. close() closes early and reports the status, for the calls
// whose closing can fail meaningfully (a file's close flushes it).
class Hid {
 public:
  using Closer = herr_t (*)(hid_t);

  Hid() = default;
  Hid(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  ~Hid() { close(); }
  Hid(Hid&& other) noexcept : id_(other.id_), closer_(other.closer_) { other.id_ = -1; }
  Hid& operator=(Hid&& other) noexcept;
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;

  hid_t get() const { return id_; }
  herr_t close();

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

// Held around every stretch of HDF5 calls. The mutex keeps two threads out
// of an HDF5 built without thread safety; the automatic printing of HDF5's
// error stack is switched off (the store reports failures itself, as
// exceptions) and restored afterwards for any other HDF5 user.
class Hdf5Session {
 public:
  Hdf5Session();
  ~Hdf5Session();
  Hdf5Session(const Hdf5Session&) = delete;
  Hdf5Session& operator=(const Hdf5Session&) = delete;

 private:
  std::lock_guard<std::mutex> lock_;
  H5E_auto2_t saved_function_ = nullptr;
  void* saved_data_ = nullptr;
};

// The most specific message on this thread's HDF5 error stack (where the
// failure was detected, e.g. "unable to open file: ... errno = 13, error
// message = 'Permission denied' ..."); empty when the stack is empty.
std::string hdf5_error_detail();
// Whether this thread's HDF5 error stack holds an error of minor kind `minor`.
bool hdf5_error_has(hid_t minor);

// Throws StoreError "FILE: WHAT (HDF5's detail)" when `id` is negative;
// otherwise returns it owned by a Hid.
Hid checked(hid_t id, Hid::Closer closer, const std::string& file, const std::string& what);
// Throws the same StoreError when `status` is negative.
void check(herr_t status, const std::string& file, const std::string& what);

// Sets file access properties `access` to lock the file (shared when
// reading, exclusive when creating) but to go on without a lock where the
// file system has locking disabled (common for Lustre and NFS on clusters),
// rather than fail with "unable to lock file". Older HDF5 has no such
// setting; there only HDF5_USE_FILE_LOCKING=FALSE in the environment gets
// past such a file system.
void use_file_locks_where_supported(hid_t access, const std::string& file, const std::string& what);

// Scalar root attributes. Strings are variable-length UTF-8, which h5py
// reads as str; the readers also accept fixed-length strings and any
// integer type HDF5 can convert to uint32, as other writers produce.
void write_u32_attribute(hid_t location, const char* name, std::uint32_t value,
                         const std::string& file);
void write_string_attribute(hid_t location, const char* name, const std::string& value,
                            const std::string& file);
std::uint32_t read_u32_attribute(hid_t location, const char* name, const std::string& file);
std::string read_string_attribute(hid_t location, const char* name, const std::string& file);

}  // namespace loom::data::store_detail
