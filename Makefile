# The two commands of the README, and the steps they are made of. Each target
# installs missing dependencies first (scripts/install-deps.sh is a no-op
# when everything is there), so both work on a fresh machine.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps configure build test demo format format-check clean

all: build

deps:
	scripts/install-deps.sh

# Configure when the build folder has no cache yet, and again whenever
# CMAKE_ARGS is given (or BUILD_TYPE on the command line): an existing cache
# would otherwise keep the old options and `make CMAKE_ARGS=-DLOOM_CUDA=ON`
# would silently change nothing. Otherwise later builds re-run CMake by
# themselves when a CMakeLists.txt changes.
RECONFIGURE := $(strip $(CMAKE_ARGS)$(filter command line,$(origin BUILD_TYPE)))

configure: deps
ifeq ($(RECONFIGURE),)
	@[ -f $(BUILD_DIR)/CMakeCache.txt ] || \
	  cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
else
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS)
endif

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

demo: build
	scripts/demo.sh $(BUILD_DIR)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp' | xargs ls -d 2>/dev/null)

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.cpp' '*.hpp' | xargs ls -d 2>/dev/null)

clean:
	rm -rf $(BUILD_DIR)
