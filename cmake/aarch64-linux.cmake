# Cross-compiling for 64-bit Arm Linux (Debian: gcc-aarch64-linux-gnu, libc6-dev-arm64-cross),
# with the tests run under user-mode QEMU (qemu-user): ctest prefixes every test command with
# CMAKE_CROSSCOMPILING_EMULATOR. QEMU_CPU picks the emulated CPU's features (max: every
# extension QEMU knows, dotprod and i8mm included; cortex-a53: plain Armv8.0 NEON).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu)
