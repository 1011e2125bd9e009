# The two commands of the README, and the steps they are made of. Each target
# installs missing dependencies first (scripts/install-deps.sh is a no-op
# when everything is there), so both work on a fresh machine.
#
# TORCH picks the LibTorch: `debian` (the default: Debian's libtorch-dev,
# 1.13, CPU only) or `pip` (PyPI's torch 2.11.0 wheel, a LibTorch built with
# CUDA 13.0, installed by scripts/install-torch.sh into .cache/ with the
# Hugging Face libraries the export tests load exports with; it needs the
# CUDA toolkit, which its CMake files look for, and configures with
# LOOM_CUDA=ON, so a CUDA path that is not found stops it). Each has its own build
# folder, so both builds live side by side:
#   make test TORCH=pip            build-torch2/, CUDA and NCCL on
# PEER_LOOM names another build's `loom` (the other LibTorch) for the
# checkpoint test across versions; CI sets it.
TORCH ?= debian
ifeq ($(TORCH),debian)
BUILD_DIR ?= build
TORCH_DEPS :=
TORCH_CMAKE_ARGS :=
else ifeq ($(TORCH),pip)
BUILD_DIR ?= build-torch2
TORCH_DEPS := scripts/install-torch.sh && scripts/install-python-clients.sh --hf
TORCH_CMAKE_ARGS = -DCMAKE_PREFIX_PATH="$$(scripts/install-torch.sh --prefix)" -DLOOM_CUDA=ON
else
$(error TORCH=$(TORCH): expected debian or pip)
endif
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
CMAKE_ARGS ?=
# SANITIZE builds Loom's code with sanitizers in a folder of its own
# (cmake/LoomSanitizers.cmake), e.g.
#   make test SANITIZE=address,undefined    build-address-undefined/
#   make test SANITIZE=thread               build-thread/
# The parts of the suite sized for CI under each:
# scripts/sanitize.sh.
SANITIZE ?=
ifneq ($(SANITIZE),)
comma := ,
BUILD_DIR := $(BUILD_DIR)-$(subst $(comma),-,$(SANITIZE))
override CMAKE_ARGS += -DLOOM_SANITIZE=$(SANITIZE)
endif
PEER_LOOM ?=
# CTEST_ARGS go to ctest after the others, e.g. CTEST_ARGS="-LE slurm".
CTEST_ARGS ?=
ifneq ($(PEER_LOOM),)
# `override`: kept also when CMAKE_ARGS is given on the command line.
override CMAKE_ARGS += -DLOOM_PEER_LOOM=$(abspath $(PEER_LOOM))
endif

.PHONY: all deps configure build test demo format format-check clean

all: build

deps:
	scripts/install-deps.sh
	scripts/install-python-clients.sh
	$(TORCH_DEPS)

# Configure when the build folder has no cache yet, and again whenever
# CMAKE_ARGS is given (or BUILD_TYPE on the command line): an existing cache
# would otherwise keep the old options and `make CMAKE_ARGS=-DLOOM_CUDA=ON`
# would silently change nothing. Otherwise later builds re-run CMake by
# themselves when a CMakeLists.txt changes.
RECONFIGURE := $(strip $(CMAKE_ARGS)$(filter command line,$(origin BUILD_TYPE)))

configure: deps
ifeq ($(RECONFIGURE),)
	@[ -f $(BUILD_DIR)/CMakeCache.txt ] || \
	  cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(TORCH_CMAKE_ARGS)
else
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(TORCH_CMAKE_ARGS) $(CMAKE_ARGS)
endif

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) $(CTEST_ARGS)

# The demo needs the `loom` binary and the libraries it links, not the tests:
# building only that target is about a third of the whole build.
demo: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target loom
	scripts/demo.sh $(BUILD_DIR)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp' | xargs ls -d 2>/dev/null)

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.cpp' '*.hpp' | xargs ls -d 2>/dev/null)

clean:
	rm -rf $(BUILD_DIR)
