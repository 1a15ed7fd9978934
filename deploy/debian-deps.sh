# Sourced by ./run.sh and ./test.sh: installs the Debian 12 packages Parley
# builds with, only those that are missing, and runs apt-get update only then.
# Not meant to be executed directly.

PARLEY_BUILD_PACKAGES=(
  g++ cmake ninja-build pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev libsodium-dev libssl-dev
  libcli11-dev nlohmann-json3-dev libtomlplusplus-dev libspdlog-dev
  libgeos-dev libproj-dev libcpp-httplib-dev
)
# nodejs and node-jsdom: the GUI page's script runs in jsdom
# (tests/gui/page_test.js, from tests/integration/gui_test.cc).
PARLEY_TEST_PACKAGES=(libgtest-dev libgmock-dev libbenchmark-dev python3 python3-cryptography
                      nodejs node-jsdom)

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

# parley_configure [CMAKE_ARGS...]: configures build/ with Ninja.
parley_configure() {
  local generator=()
  if [ ! -f build/CMakeCache.txt ]; then
    generator=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo)
  fi
  cmake -S . -B build "${generator[@]}" "$@" >/dev/null
}

# parley_build TARGET...: builds the targets in build/.
parley_build() {
  cmake --build build --parallel "$(nproc)" --target "$@"
}
