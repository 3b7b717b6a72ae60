# Shared by the bench/arm scripts (sourced, not run): messages, apt-get as root, and the aarch64
# cross toolchain with qemu-user.

step() { printf '\n== %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@"
}

# Installs what is missing of: the aarch64 g++, qemu-user, cmake, ninja.
ensure_cross_toolchain() {
  local missing=()
  command -v aarch64-linux-gnu-g++ >/dev/null || missing+=(g++-aarch64-linux-gnu)
  command -v qemu-aarch64 >/dev/null || missing+=(qemu-user)
  command -v cmake >/dev/null || missing+=(cmake)
  command -v ninja >/dev/null || missing+=(ninja-build)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}"
    apt_install "${missing[@]}"
  fi
  aarch64-linux-gnu-g++ --version | head -1
  qemu-aarch64 --version | head -1
}

# Configures (once) the aarch64 Release build of the library and its C++ tests in $1.
configure_cross_build() {
  cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE=cpp/toolchains/aarch64-linux-gnu.cmake \
    -DGV_BUILD_TESTS=ON -DGV_BUILD_PYTHON=OFF >/dev/null
}
