// Internal: the per-ISA argmax kernels the decoders dispatch to, once per call.
//
// Every kernel computes, for each of `rows` rows of `len` elements (row r starts at
// base + r * stride), the index of the first maximum. NaN never wins a comparison, and a row in
// which nothing beats -inf (all NaN or -inf) gives 0. The scan works in chunks of kChunk
// elements: a chunk is reduced to its maximum, which is compared with the best so far, and only
// the chunk where the final maximum first appeared is searched for its index. That one-pass
// structure is the same in every path, which is what makes them bit-identical.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gv/decode.hpp"
#include "gv/isa.hpp"

namespace gv {
namespace detail {

constexpr std::size_t kChunk = 64;

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

/// A whole batch of GV vectors of exactly 64 elements (w = h = 64) with the quarter rule:
/// coords and scores as decode_vectors gives them. `quant` is ignored for float.
template <class T>
using Faces64 = void (*)(const VectorBatch<T>& batch, const VectorParams& params,
                         const Quant& quant, float* coords, float* scores);

struct Kernels {
  Isa isa;
  RowsArgmax<float> f32;
  RowsArgmax<std::int8_t> i8;
  RowsArgmax<std::uint8_t> u8;
  RowsLocate<float> locate_f32;
  RowsLocate<std::int8_t> locate_i8;
  RowsLocate<std::uint8_t> locate_u8;
  // Paths with a whole-batch decoder for 64-element vectors (NEON); null elsewhere.
  Faces64<float> faces64_f32 = nullptr;
  Faces64<std::int8_t> faces64_i8 = nullptr;
  Faces64<std::uint8_t> faces64_u8 = nullptr;
};

const Kernels& scalar_kernels() noexcept;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define GV_HAVE_X86_KERNELS 1
const Kernels& sse41_kernels() noexcept;
const Kernels& avx2_kernels() noexcept;
const Kernels& avx512_kernels() noexcept;
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
#define GV_HAVE_NEON_KERNELS 1
const Kernels& neon_kernels() noexcept;
void neon_faces64(Kernels& k) noexcept;  // vectors64_neon.cpp: sets the faces64 decoders
#endif

/// The kernels of `isa` (automatic resolved); throws std::invalid_argument if unsupported here.
const Kernels& kernels_for(Isa isa);

}  // namespace detail
}  // namespace gv
