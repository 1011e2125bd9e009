// The sanitizers' run-time options, linked into every executable of a
// sanitizer build (cmake/LoomSanitizers.cmake), so that the binaries run the
// same under ctest, mpirun, SLURM and by hand. An environment variable
// (ASAN_OPTIONS, ...) still overrides any option set here.
//
// Each runtime calls its hook, if the program defines one, once at start-up.

extern "C" {

// Stop at the first error, so that the test that met it fails; look for
// leaks at exit; check the order in which globals are initialised.
__attribute__((visibility("default"), used)) const char* __asan_default_options() {
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
  return "";
}

}  // extern "C"
