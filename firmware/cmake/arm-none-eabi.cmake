# CMake toolchain file for bare-metal Arm Cortex-M with Debian's arm-none-eabi-gcc (newlib).
#     cmake -S app -B build -DCMAKE_TOOLCHAIN_FILE=<tinyforge>/firmware/cmake/arm-none-eabi.cmake \
#           -DTINYFORGE_CPU_FLAGS="-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard"
# TINYFORGE_CPU_FLAGS is the core (a board profile's cflags, firmware/boards/*.json); the default
# is the Cortex-M4F of mps2-an386. Linker script and startup code are the application's.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
set(CMAKE_AR arm-none-eabi-ar)
set(CMAKE_RANLIB arm-none-eabi-ranlib)

set(TINYFORGE_CPU_FLAGS "-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard" CACHE STRING "Core flags for compiling and linking")
set(CMAKE_C_FLAGS_INIT "${TINYFORGE_CPU_FLAGS} -ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT "${TINYFORGE_CPU_FLAGS} -ffunction-sections -fdata-sections")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${TINYFORGE_CPU_FLAGS}")

# There is no operating system to run test programs on: CMake's compiler checks build a library.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
