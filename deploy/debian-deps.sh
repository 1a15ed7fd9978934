# Sourced by ./run.sh and ./test.sh: installs the Debian 12 packages Parley
# builds with, only those that are missing, and runs apt-get update only then.
# Not meant to be executed directly.

PARLEY_BUILD_PACKAGES=(
  g++ cmake ninja-build pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev libsodium-dev libssl-dev
  libcli11-dev nlohmann-json3-dev libtomlplusplus-dev libspdlog-dev
  libgeos-dev libproj-dev libcpp-httplib-dev ccache
)
# nodejs and node-jsdom: the GUI page's script runs in jsdom
# (tests/gui/page_test.js, from tests/integration/gui_test.cc).
PARLEY_TEST_PACKAGES=(libgtest-dev libgmock-dev libbenchmark-dev python3 python3-cryptography
                      nodejs node-jsdom)
# clang with its sanitizer runtimes and libFuzzer: ./test.sh --sanitize and
# ./test.sh --fuzz (build-asan/, build-tsan/, build-fuzz/).
PARLEY_SANITIZER_PACKAGES=(clang-14 libclang-rt-14-dev libfuzzer-14-dev)

# ccache, when installed, serves every build tree. Paths under this checkout
# are hashed relative to it, so a clone in another folder hits the cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-20G}"
# Precompiled headers (client/, tests/) are cacheable only with these.
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"

parley_install_packages() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
      missing+=("$pkg")
    fi
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    return 0
  fi
  echo "Installing missing Debian packages: ${missing[*]}" >&2
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# parley_configure_tree DIR [CMAKE_ARGS...]: configures DIR with Ninja, and
# compiles through ccache when it is installed (trees configured before
# ccache was one of the build packages take it up too). The first configure
# of DIR chooses its compiler and build type: pass them in CMAKE_ARGS; later
# calls keep them.
parley_configure_tree() {
  local dir="$1"
  shift
  local args=()
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    args=(-G Ninja)
  fi
  if command -v ccache >/dev/null; then
    args+=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  cmake -S . -B "$dir" "${args[@]}" "$@" >/dev/null
}

# parley_configure [CMAKE_ARGS...]: configures build/, the normal tree (g++).
parley_configure() {
  local first=()
  if [ ! -f build/CMakeCache.txt ]; then
    first=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
  fi
  parley_configure_tree build "${first[@]}" "$@"
}

# parley_build TARGET...: builds the targets in build/.
parley_build() {
  parley_build_tree build "$@"
}

# parley_build_tree DIR TARGET...: builds the targets in DIR.
parley_build_tree() {
  local dir="$1"
  shift
  cmake --build "$dir" --parallel "$(nproc)" --target "$@"
}

# parley_configure_clang DIR SANITIZERS OPT [CMAKE_ARGS...]: a clang tree for
# sanitizer and fuzzing builds, with line tables only (stack traces with
# file:line for a fraction of full debug info's build time) and assertions
# on. OPT is the optimisation flag, e.g. -O0 (half the build time of -O1).
parley_configure_clang() {
  local dir="$1" sanitize="$2" opt="$3"
  shift 3
  local first=()
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    first=(-DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14
           -DCMAKE_BUILD_TYPE=Sanitize
           "-DCMAKE_C_FLAGS_SANITIZE=$opt -gline-tables-only"
           "-DCMAKE_CXX_FLAGS_SANITIZE=$opt -gline-tables-only")
  fi
  parley_configure_tree "$dir" "${first[@]}" -DPARLEY_SANITIZE="$sanitize" "$@"
}
