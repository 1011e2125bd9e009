#!/usr/bin/env bash
# Builds Loom's code with sanitizers and runs the part of the suite sized
# for CI under them (cmake/LoomSanitizers.cmake; each build in a folder of
# its own, as `make test SANITIZE=...` makes it):
#
#   scripts/sanitize.sh address,undefined
#       AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer over
#       the whole build, and every test but those labelled slurm, multihost,
#       browser and cuda: those start daemons, hosts and a browser around the
#       same `loom` code that the rest of the suite already runs under the
#       sanitizers, and take a third of the suite's time; load, whose
#       memory bound and request rates do not hold for an instrumented
#       server (the server's own tests run); the tests whose time goes to
#       Python libraries reading what Loom wrote or served (transformers
#       loading the Hugging Face exports, the openai client): the sanitizers
#       see none of it, and the Loom side of each (the export, the OpenAI
#       endpoints) runs under them in other tests; and the process-level
#       repeats whose instrumented time is mostly more of the same training
#       steps: the trainer killed at ten random moments (SIGTERM at a random
#       step stays), a flipped byte in each checkpoint file (one flipped
#       byte stays), and four of the data-parallel runs over MPI that
#       repeat another's steps with a different launch or backend (two ranks
#       against one, the resume on another number of ranks and the
#       refusals stay; the gradient sync's own tests all run).
#   scripts/sanitize.sh thread
#       ThreadSanitizer over the tests of the threaded parts (label threads:
#       the thread pool, the batch prefetcher, the CPU worker pool, the
#       gradient sync's communication thread, the peer watch, the server),
#       building only what they need.
#
# Extra arguments go to ctest (e.g. -R Prefetcher). Exits non-zero when the
# build fails, a test fails, or a sanitizer reports anything.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() {
  echo "usage: scripts/sanitize.sh address,undefined|thread [ctest arguments...]" >&2
  exit 2
}
(($# >= 1)) || usage
sanitize=$1
shift
case $sanitize in
  address,undefined)
    build_targets=()
    tests=(-LE '^(slurm|multihost|browser|cuda|load)$'
      -E '^(ExportShakespeare\.Transformers|ExportCli\.Transformers|ExportRoundTrip\.HuggingFaceShapes|OpenAiClient\.|TrainCli\.KilledAtRandomMoments|VerifyCli\.AFlippedByteInEachFile|DataParallel\.(TwoRanksWithAccumulation|RanksStartedWithoutMpirun|EveryRankPassesOver|DistBackendGloo))')
    ;;
  thread)
    build_targets=(--target core_tests sampler_tests train_tests peer_watch_tests
      gradient_sync_tests serve_tests)
    tests=(-L '^threads$')
    ;;
  *) usage ;;
esac

build_dir="build-${sanitize//,/-}"
jobs=$(nproc)
make configure SANITIZE="$sanitize"
cmake --build "$build_dir" -j "$jobs" "${build_targets[@]}"
ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" "${tests[@]}" "$@"
