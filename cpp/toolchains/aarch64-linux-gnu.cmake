# Cross-compile for 64-bit ARM Linux with Debian/Ubuntu's aarch64-linux-gnu GCC
# (apt-get install g++-aarch64-linux-gnu). Test binaries run under qemu-aarch64 through
# CMAKE_CROSSCOMPILING_EMULATOR, so `ctest` works unchanged (apt-get install qemu-user).
#
#   cmake -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=cpp/toolchains/aarch64-linux-gnu.cmake \
#         -DGV_BUILD_TESTS=ON
#
# GV_AARCH64_SYSROOT overrides the target root (default /usr/aarch64-linux-gnu).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(GV_AARCH64_PREFIX aarch64-linux-gnu- CACHE STRING "Cross tool prefix")
set(GV_AARCH64_SYSROOT /usr/aarch64-linux-gnu CACHE PATH "Target root for libraries and qemu")
set(CMAKE_C_COMPILER ${GV_AARCH64_PREFIX}gcc)
set(CMAKE_CXX_COMPILER ${GV_AARCH64_PREFIX}g++)

set(CMAKE_FIND_ROOT_PATH ${GV_AARCH64_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)  # pybind11's CMake config lives on the host

find_program(GV_QEMU_AARCH64 qemu-aarch64)
if(GV_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${GV_QEMU_AARCH64} -L ${GV_AARCH64_SYSROOT})
endif()
