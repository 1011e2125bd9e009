// The sanitizers' run-time options, linked into every executable of a
// sanitizer build (cmake/LoomSanitizers.cmake), so that the binaries run the
// same under ctest, mpirun, SLURM and by hand. An environment variable
// (ASAN_OPTIONS, ...) still overrides any option set here.
//
// Each runtime calls its hook, if the program defines one, once at start-up.

#include <cstdlib>

namespace {

// Whether this process is an MPI rank: mpirun sets OMPI_COMM_WORLD_SIZE,
// srun with PMIx sets PMIX_RANK. (getenv only reads the environment block,
// which the loader has set up before any sanitizer starts.)
bool is_mpi_rank() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMIX_RANK") != nullptr;
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

}  // extern "C"
