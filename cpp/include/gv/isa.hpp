// Instruction-set paths of the decoder's argmax kernels, and how one is chosen.
//
// Every path returns exactly the same indices (the first maximum; NaN never wins), so the
// choice only changes speed. `Isa::automatic` picks the best path this CPU supports, unless the
// environment variable GV_DECODE_ISA names another one (a name of GV_ISA_LIST), read once.
#pragma once

#include <vector>

/// The concrete paths, one X(name) each, slowest first: `automatic` takes the last one this CPU
/// runs. The enum, the names, the parser and the dispatch table (cpp/src/isa.cpp) all come from
/// this list; a path's kernels, compile guard and CPU check live in its own file,
/// cpp/src/argmax_<name>.cpp (docs/native.md, "Adding a path").
///   scalar  portable C++ the compiler may vectorise; always available
///   sse41   x86-64 with SSE4.1
///   avx2    x86-64 with AVX2
///   avx512  x86-64 with AVX-512F/BW: float GV vectors in 512-bit registers, rest as avx2
///   neon    aarch64 Advanced SIMD
#define GV_ISA_LIST(X) \
  X(scalar)            \
  X(sse41)             \
  X(avx2)              \
  X(avx512)            \
  X(neon)

namespace gv {

enum class Isa {
  automatic,  ///< the best supported path (or GV_DECODE_ISA)
#define GV_ISA_ENUMERATOR(name) name,
  GV_ISA_LIST(GV_ISA_ENUMERATOR)
#undef GV_ISA_ENUMERATOR
};

/// Lower-case name of a path: "automatic" or the name in GV_ISA_LIST.
const char* isa_name(Isa isa) noexcept;

/// True when `isa` was compiled in and this CPU can run it (`automatic` is always supported).
bool isa_supported(Isa isa) noexcept;

/// The concrete path `automatic` resolves to in this process.
Isa automatic_isa() noexcept;

/// Every concrete path this process can run, in the order of GV_ISA_LIST (scalar first).
std::vector<Isa> supported_isas();

/// Parse a name as given by `isa_name`; throws std::invalid_argument for an unknown name.
Isa parse_isa(const char* name);

}  // namespace gv
