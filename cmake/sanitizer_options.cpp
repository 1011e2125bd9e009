// The sanitizers' run-time options, linked into every executable of a
// sanitizer build (cmake/LoomSanitizers.cmake), so that the binaries run the
// same under ctest, mpirun, SLURM and by hand. An environment variable
// (ASAN_OPTIONS, ...) still overrides any option set here.
//
// Each runtime calls its hook, if the program defines one, once at start-up.

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

// Whether the environment holds a variable of this name. The sanitizers ask
// for their options before the C library has set up getenv (which then
// sees nothing) and before their interceptors of open and read are ready,
// so this reads /proc/self/environ (NUL-separated NAME=value entries) with
// raw system calls and a byte-by-byte match, uninstrumented (the shadow
// memory that instrumented code checks is not mapped yet).
__attribute__((no_sanitize("address", "thread", "undefined"))) bool environment_has(
    const char* name) {
  const long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/environ", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool found = false;
  long matched = 0;  // characters of "name=" matched in this entry; -1: not this one
  char buffer[4096];
  long count = 0;
  while (!found && (count = syscall(SYS_read, fd, buffer, sizeof buffer)) > 0) {
    for (long i = 0; i < count && !found; ++i) {
      const char c = buffer[i];
      if (c == '\0') {
        matched = 0;
      } else if (matched >= 0) {
        const char expected = name[matched] != '\0' ? name[matched] : '=';
        if (c != expected) {
          matched = -1;
        } else if (c == '=') {
          found = true;
        } else {
          ++matched;
        }
      }
    }
  }
  syscall(SYS_close, fd);
  return found;
}

// Whether this process is an MPI rank: mpirun sets OMPI_COMM_WORLD_SIZE,
// srun with PMIx sets PMIX_RANK.
__attribute__((no_sanitize("address", "thread", "undefined"))) bool is_mpi_rank() {
  return environment_has("OMPI_COMM_WORLD_SIZE") || environment_has("PMIX_RANK");
}

}  // namespace

extern "C" {

// Stop at the first error, so that the test that met it fails; look for
// leaks at exit; check the order in which globals are initialised.
//
// In an MPI rank, also record each allocation's whole stack. Open MPI keeps
// memory for the life of the process and unloads its plugins at
// MPI_Finalize; with the fast frame-pointer unwinder (libraries built
// without frame pointers) such a leak's stack ends in one frame of an
// unloaded plugin, which no suppression can name. The full unwinder reaches
// the frames in libmpi below it (suppressed below), at about 2.5 times the
// cost per allocation, so only where MPI runs.
__attribute__((visibility("default"), used)) const char* __asan_default_options() {
  if (is_mpi_rank()) {
    return "halt_on_error=1:detect_leaks=1:check_initialization_order=1:strict_init_order=1:"
           "fast_unwind_on_malloc=0";
  }
  return "halt_on_error=1:detect_leaks=1:check_initialization_order=1:strict_init_order=1";
}

__attribute__((visibility("default"), used)) const char* __ubsan_default_options() {
  return "halt_on_error=1:print_stacktrace=1";
}

__attribute__((visibility("default"), used)) const char* __tsan_default_options() {
  return "halt_on_error=1:second_deadlock_stack=1";
}

// Leaks in the prebuilt libraries Loom links, which free what they keep for
// the whole process only at exit, or never: not Loom's to fix. Each entry
// names a library, so a leak in Loom's own code is still reported.
__attribute__((visibility("default"), used)) const char* __lsan_default_suppressions() {
  return
      // Open MPI 4.1: what MPI_Init allocates (its runtime, PMIx, libevent,
      // hwloc's topology, the reduction ops) stays allocated after
      // MPI_Finalize.
      "leak:libmpi.so\n"
      "leak:libopen-pal.so\n"
      "leak:libopen-rte.so\n"
      "leak:libpmix.so\n"
      "leak:libevent\n"
      "leak:libhwloc.so\n";
}

// Races ThreadSanitizer reports with a frame in a prebuilt library, whose
// synchronisation it cannot see: only instrumented code and intercepted
// calls (pthread, malloc) tell it what happens before what, and the atomics
// and barriers inside these libraries are neither. Seen on Loom's tests:
// LibTorch's Gloo work objects and oneDNN/OpenMP kernels (their own
// reference counts and barriers), cpp-httplib's worker threads, and an
// exception handed across threads through std::exception_ptr, whose count
// libstdc++ keeps with atomics. A race whose stacks run only through Loom's
// code and the C++ library is still reported.
__attribute__((visibility("default"), used)) const char* __tsan_default_suppressions() {
  return "race:libtorch_cpu.so\n"
         "race:libdnnl.so\n"
         "race:libgomp.so\n"
         "race:libcpp-httplib.so\n"
         "race:std::runtime_error::~runtime_error\n";
}

}  // extern "C"
