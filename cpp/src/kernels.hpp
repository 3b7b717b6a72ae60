// Internal: the per-ISA argmax kernels the decoders dispatch to, once per call.
//
// Every kernel computes, for each of `rows` rows of `len` elements (row r starts at
// base + r * stride), the index of the first maximum. NaN never wins a comparison, and a row in
// which nothing beats -inf (all NaN or -inf) gives 0, in every path alike. The SIMD paths
// (argmax_simd.hpp) reduce rows of up to kShortMax elements (GV vectors) to their maximum in one
// pass and then search them for its first index; longer rows (heatmaps) they scan in chunks of
// kChunk elements: a chunk is reduced to its maximum, which is compared with the best so far,
// and only the chunk where the final maximum first appeared is searched for its index. The
// portable path (argmax_scalar.cpp) scans every row in chunks, then element by element.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "gv/decode.hpp"
#include "gv/isa.hpp"

namespace gv {
namespace detail {

constexpr std::size_t kChunk = 64;
/// Rows up to this long (GV vectors) are scanned in one pass (argmax_simd.hpp: argmax_short).
constexpr std::size_t kShortMax = 2 * kChunk;

template <class T>
using RowsArgmax = void (*)(const T* base, std::size_t rows, std::size_t len,
                            std::size_t stride, std::size_t* out);

struct VectorRules;  // rules.hpp

/// Argmax and the per-landmark rules of docs/decoding.md, row by row: coord[r * coord_stride] is
/// row r's location and peak[r] its real peak value. Fusing the two keeps each row's rules on
/// data still in L1 and lets them overlap the next row's scan. `quant` is ignored for float.
template <class T>
using RowsLocate = void (*)(const T* base, std::size_t rows, std::size_t len, std::size_t stride,
                            const VectorRules& rules, const Quant& quant, float* coord,
                            std::size_t coord_stride, float* peak);

/// A whole batch of GV vectors with the quarter rule, decoded at once where the path has such a
/// decoder for the batch's vector length: coords and scores as decode_vectors gives them, and
/// true; false (nothing written) for a length it does not take. `quant` is ignored for float.
template <class T>
using Faces = bool (*)(const VectorBatch<T>& batch, const VectorParams& params,
                       const Quant& quant, float* coords, float* scores);

/// A path's kernels for element type T.
template <class T>
struct TypeKernels {
  RowsArgmax<T> argmax;
  RowsLocate<T> locate;
  Faces<T> faces = nullptr;  ///< a whole-batch decoder (NEON); null where there is none
};

/// One path: whether this CPU runs it, and its kernels per element type. Every path's file
/// builds its table the same way: a static Kernels in <name>_kernels(), of kTypeKernels<traits>
/// per element type (argmax_simd.hpp; argmax_scalar.cpp has its own).
struct Kernels {
  bool (*cpu_runs)() noexcept;  ///< this CPU (and OS) runs the path; isa.cpp asks once
  TypeKernels<float> f32;
  TypeKernels<std::int8_t> i8;
  TypeKernels<std::uint8_t> u8;

  template <class T>
  const TypeKernels<T>& of() const noexcept {
    if constexpr (std::is_same<T, float>::value)
      return f32;
    else if constexpr (std::is_same<T, std::int8_t>::value)
      return i8;
    else
      return u8;
  }
};

/// `cpu_runs` of the paths that need nothing beyond the build's baseline (scalar, neon).
inline bool baseline_cpu() noexcept { return true; }

// Compile guards of the kernel files: each builds its table only where its ISA is compiled.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define GV_HAVE_X86_KERNELS 1
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
#define GV_HAVE_NEON_KERNELS 1
/// vectors_neon.cpp: NEON's whole-batch decoders, for float, int8 and uint8.
template <class T>
bool neon_faces(const VectorBatch<T>& batch, const VectorParams& params, const Quant& quant,
                float* coords, float* scores);
#endif

/// One `const Kernels* <name>_kernels() noexcept` per entry of GV_ISA_LIST, defined in
/// argmax_<name>.cpp: the path's table, or null where this build does not compile it.
#define GV_DECLARE_KERNELS(name) const Kernels* name##_kernels() noexcept;
GV_ISA_LIST(GV_DECLARE_KERNELS)
#undef GV_DECLARE_KERNELS

/// The kernels of `isa` (automatic resolved); throws std::invalid_argument if unsupported here.
const Kernels& kernels_for(Isa isa);

}  // namespace detail
}  // namespace gv
