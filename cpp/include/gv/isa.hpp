// Instruction-set paths of the decoder's argmax kernels, and how one is chosen.
//
// Every path returns exactly the same indices (the first maximum; NaN never wins), so the
// choice only changes speed. `Isa::automatic` picks the best path this CPU supports, unless the
// environment variable GV_DECODE_ISA names another one (scalar, sse41, avx2, avx512, neon), read
// once.
#pragma once

#include <vector>

namespace gv {

enum class Isa {
  automatic,  ///< the best supported path (or GV_DECODE_ISA)
  scalar,     ///< portable C++ the compiler may vectorise; always available
  sse41,      ///< x86-64 with SSE4.1
  avx2,       ///< x86-64 with AVX2
  avx512,     ///< x86-64 with AVX-512F/BW: float GV vectors in 512-bit registers, rest as avx2
  neon,       ///< aarch64 Advanced SIMD
};

/// Lower-case name of a path ("automatic", "scalar", "sse41", "avx2", "avx512", "neon").
const char* isa_name(Isa isa) noexcept;

/// True when `isa` was compiled in and this CPU can run it (`automatic` is always supported).
bool isa_supported(Isa isa) noexcept;

/// The concrete path `automatic` resolves to in this process.
Isa automatic_isa() noexcept;

/// Every concrete path this process can run, scalar first.
std::vector<Isa> supported_isas();

/// Parse a name as given by `isa_name`; throws std::invalid_argument for an unknown name.
Isa parse_isa(const char* name);

}  // namespace gv
