// Internal: the chunked argmax scan written once over a small "vector traits" type, shared by the
// SSE4.1, AVX2 and NEON paths. It mirrors argmax_scalar.cpp step for step (same chunks, same
// strict comparisons, same tail loop), which is why all paths return identical indices.
//
// A traits type V provides:
//   T, Vec, kPerVec           element type, register type, elements per register
//   set1(T), load(const T*)   broadcast, unaligned load
//   max_keep(a, acc)          per lane a > acc ? a : acc (keeps acc when a is NaN)
//   any_gt(m, b)              some lane of m > the same lane of b
//   splat_max(m)              every lane = the largest lane of m (m holds no NaN)
//   first(m)                  lane 0 of m
//   eq_mask(const T*, b)      bit i set where element i == the lane of b, for kPerVec elements
// and may provide chunk_eq_mask(const T*, b), the 64-bit mask of a whole chunk, where it can do
// better than combining eq_mask results (see has_chunk_eq_mask below), and argmax_chunk(const T*),
// the first index of the maximum of exactly kChunk elements in one pass, used for rows of that
// length (GV vectors) where it beats the two-pass scan; it must give the same index.
//
// The x86 translation units include this header after switching the target ISA with a pragma;
// it must therefore include no standard headers itself (they are included before the pragma, so
// no inline standard-library code is compiled for a wider ISA than the baseline).
#pragma once

#include "locate_rows.hpp"

namespace gv {
namespace detail {
namespace simd {

template <class V, class = void>
struct has_chunk_eq_mask : std::false_type {};
template <class V>
struct has_chunk_eq_mask<V, decltype(void(V::chunk_eq_mask(nullptr, typename V::Vec{})))>
    : std::true_type {};

template <class V, class = void>
struct has_argmax_chunk : std::false_type {};
template <class V>
struct has_argmax_chunk<V, decltype(void(V::argmax_chunk(nullptr)))> : std::true_type {};

template <class V>
inline std::size_t first_equal_in_chunk(const typename V::T* v, typename V::Vec b) noexcept {
  constexpr std::size_t kVecs = kChunk / V::kPerVec;
  std::uint64_t mask = 0;
  if constexpr (has_chunk_eq_mask<V>::value) {
    mask = V::chunk_eq_mask(v, b);
  } else {
#pragma GCC unroll 16
    for (std::size_t i = 0; i < kVecs; ++i)
      mask |= static_cast<std::uint64_t>(V::eq_mask(v + i * V::kPerVec, b)) << (i * V::kPerVec);
  }
  return static_cast<std::size_t>(__builtin_ctzll(mask));
}

/// The chunked two-pass scan, for any length.
template <class V>
inline std::size_t argmax_scan(const typename V::T* v, std::size_t n) noexcept {
  using T = typename V::T;
  using Vec = typename V::Vec;
  constexpr std::size_t kVecs = kChunk / V::kPerVec;
  constexpr std::size_t kAcc = kVecs < 4 ? kVecs : 4;  // independent chains for ILP
  T best = std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                                : std::numeric_limits<T>::lowest();
  Vec best_v = V::set1(best);
  std::size_t best_chunk = n;
  std::size_t j = 0;
  for (; j + kChunk <= n; j += kChunk) {
    const Vec b = best_v;
    Vec acc[kAcc];
#pragma GCC unroll 4
    for (std::size_t a = 0; a < kAcc; ++a) acc[a] = b;
#pragma GCC unroll 16
    for (std::size_t i = 0; i < kVecs; ++i)
      acc[i % kAcc] = V::max_keep(V::load(v + j + i * V::kPerVec), acc[i % kAcc]);
#pragma GCC unroll 4
    for (std::size_t a = 1; a < kAcc; ++a) acc[0] = V::max_keep(acc[a], acc[0]);
    if (V::any_gt(acc[0], b)) {
      best_v = V::splat_max(acc[0]);
      best_chunk = j;
    }
  }
  best = V::first(best_v);
  std::size_t idx = 0;
  if (best_chunk != n) idx = best_chunk + first_equal_in_chunk<V>(v + best_chunk, best_v);
  for (; j < n; ++j)
    if (v[j] > best) {
      best = v[j];
      idx = j;
    }
  return idx;
}

template <class V>
inline std::size_t argmax_row(const typename V::T* v, std::size_t n) noexcept {
  if constexpr (has_argmax_chunk<V>::value) {
    if (n == kChunk) return V::argmax_chunk(v);
  }
  return argmax_scan<V>(v, n);
}

template <class V>
void argmax_rows(const typename V::T* base, std::size_t rows, std::size_t len, std::size_t stride,
                 std::size_t* out) noexcept {
  for (std::size_t r = 0; r < rows; ++r) out[r] = argmax_row<V>(base + r * stride, len);
}

template <class V>
void locate_rows(const typename V::T* base, std::size_t rows, std::size_t len, std::size_t stride,
                 const VectorRules& rules, const Quant& quant, float* coord,
                 std::size_t coord_stride, float* peak) noexcept {
  locate_rows_any(base, rows, len, stride, rules, quant, coord, coord_stride, peak,
                  [](const typename V::T* v, std::size_t n) { return argmax_row<V>(v, n); });
}

/// A path's kernels for traits V (and its whole-batch decoder, if any), as its table takes them.
/// A constant, not a function: no code compiled for the path's ISA runs when the table is read.
template <class V, Faces64<typename V::T> kFaces64 = nullptr>
constexpr TypeKernels<typename V::T> kTypeKernels{&argmax_rows<V>, &locate_rows<V>, kFaces64};

}  // namespace simd
}  // namespace detail
}  // namespace gv
