# Compiler flags shared by every target, and the per-file ISA flags of the kernels.

if(CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
  add_compile_options(-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
                      -Wno-unused-parameter -fno-math-errno)
  if(TM_WERROR)
    add_compile_options(-Werror)
  endif()
  if(TM_SANITIZE)
    add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                        -fno-sanitize-recover=undefined)
    add_link_options(-fsanitize=address,undefined)
  endif()
elseif(MSVC)
  add_compile_options(/W3 /experimental:c11atomics /utf-8)
  if(TM_WERROR)
    add_compile_options(/WX)
  endif()
endif()

if(MINGW)
  # _WIN32_WINNT 0x0601: Windows 7 APIs (GetActiveProcessorCount, condition variables)
  add_compile_definitions(_WIN32_WINNT=0x0601 __USE_MINGW_ANSI_STDIO=1)
endif()

# Adds kernels/<isa>.c for the ISAs this compiler and target can build, each file with its
# own flags, and sets TM_ISA_DEFINES (TM_BUILD_AVX2=1 ...) for dispatch.c and
# TM_KERNEL_TABLES (avx2;avx512 ...: the tables beside "ref" that dispatch.c can pick) for
# the tests. Only GCC and Clang: the kernels use their vector extensions and builtins (MSVC
# builds the reference).
set(TM_ISA_DEFINES "")
set(TM_KERNEL_TABLES "")
function(tm_add_isa_kernels out_var)
  set(sources ${${out_var}})
  set(defines "")
  set(dir ${CMAKE_CURRENT_SOURCE_DIR}/src/tensor/kernels)
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64|amd64" AND CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
    include(CheckCCompilerFlag)
    if(EXISTS ${dir}/avx2.c)
      list(APPEND sources src/tensor/kernels/avx2.c)
      set_source_files_properties(src/tensor/kernels/avx2.c PROPERTIES
        COMPILE_OPTIONS "-mavx2;-mfma;-mf16c")
      list(APPEND defines TM_BUILD_AVX2=1)
    endif()
    # AVX-VNNI (VEX vpdpbusd): GCC 11 and clang 12 know it
    check_c_compiler_flag("-mavxvnni" TM_CC_HAS_AVXVNNI)
    if(EXISTS ${dir}/avxvnni.c AND EXISTS ${dir}/avx2.c AND TM_CC_HAS_AVXVNNI)
      list(APPEND sources src/tensor/kernels/avxvnni.c)
      set_source_files_properties(src/tensor/kernels/avxvnni.c PROPERTIES
        COMPILE_OPTIONS "-mavx2;-mfma;-mf16c;-mavxvnni")
      list(APPEND defines TM_BUILD_AVXVNNI=1)
    endif()
    if(EXISTS ${dir}/avx512.c)
      list(APPEND sources src/tensor/kernels/avx512.c)
      set_source_files_properties(src/tensor/kernels/avx512.c PROPERTIES
        COMPILE_OPTIONS "-mavx2;-mfma;-mf16c;-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq;-mavx512vnni")
      list(APPEND defines TM_BUILD_AVX512=1)
    endif()
    # prompt attention with VDPBF16PS: a part of the AVX-512 table, used where the CPU has
    # AVX-512 BF16 (dispatch.c)
    check_c_compiler_flag("-mavx512bf16" TM_CC_HAS_AVX512BF16)
    if(EXISTS ${dir}/bf16_attn.c AND EXISTS ${dir}/avx512.c AND TM_CC_HAS_AVX512BF16)
      list(APPEND sources src/tensor/kernels/bf16_attn.c)
      set_source_files_properties(src/tensor/kernels/bf16_attn.c PROPERTIES
        COMPILE_OPTIONS "-mavx2;-mfma;-mf16c;-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq;-mavx512bf16")
      list(APPEND defines TM_HAS_BF16_ATTN=1)
    endif()
    # AMX tiles: GCC 11 and clang 12 know the instructions
    check_c_compiler_flag("-mamx-tile -mamx-bf16 -mavx512bf16" TM_CC_HAS_AMX)
    if(EXISTS ${dir}/amx.c AND TM_CC_HAS_AMX)
      list(APPEND sources src/tensor/kernels/amx.c)
      set_source_files_properties(src/tensor/kernels/amx.c PROPERTIES
        COMPILE_OPTIONS "-mavx2;-mfma;-mf16c;-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq;-mavx512vnni;-mavx512bf16;-mamx-tile;-mamx-bf16")
      list(APPEND defines TM_BUILD_AMX=1)
    endif()
  endif()
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64|ARM64" AND CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
    if(EXISTS ${dir}/neon.c) # NEON is part of every AArch64 CPU: no flags
      list(APPEND sources src/tensor/kernels/neon.c)
      list(APPEND defines TM_BUILD_NEON=1)
    endif()
    if(EXISTS ${dir}/dotprod.c)
      list(APPEND sources src/tensor/kernels/dotprod.c)
      set_source_files_properties(src/tensor/kernels/dotprod.c PROPERTIES
        COMPILE_OPTIONS "-march=armv8.2-a+dotprod")
      list(APPEND defines TM_BUILD_DOTPROD=1)
    endif()
    if(EXISTS ${dir}/i8mm.c)
      list(APPEND sources src/tensor/kernels/i8mm.c)
      set_source_files_properties(src/tensor/kernels/i8mm.c PROPERTIES
        COMPILE_OPTIONS "-march=armv8.2-a+dotprod+i8mm")
      list(APPEND defines TM_BUILD_I8MM=1)
    endif()
  endif()
  set(${out_var} ${sources} PARENT_SCOPE)
  set(TM_ISA_DEFINES ${defines} PARENT_SCOPE)
  set(tables ${defines})
  list(FILTER tables INCLUDE REGEX "^TM_BUILD_") # kernel tables, not parts of one
  list(TRANSFORM tables REPLACE "^TM_BUILD_([A-Z0-9]+)=1$" "\\1")
  string(TOLOWER "${tables}" tables)
  set(TM_KERNEL_TABLES ${tables} PARENT_SCOPE)
endfunction()
