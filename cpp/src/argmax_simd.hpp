// Internal: the argmax kernels written once over a small "vector traits" type, shared by the
// SSE4.1, AVX2, AVX-512 and NEON paths: a one-pass scan for short rows (GV vectors of up to
// kShortMax elements, any length from a register's width on) and the chunked two-pass scan for
// longer ones (heatmaps), as argmax_scalar.cpp (same strict comparisons from the same lowest
// value, first index of the maximum), which is why all paths return identical indices.
//
// A traits type V provides:
//   T, Vec, kPerVec           element type, register type, elements per register
//   set1(T), load(const T*)   broadcast, unaligned load
//   max_keep(a, acc)          per lane a > acc ? a : acc (keeps acc when a is NaN)
//   any_gt(m, b)              some lane of m > the same lane of b
//   splat_max(m)              every lane = the largest lane of m (m holds no NaN)
//   first(m)                  lane 0 of m
//   eq_mask(const T*, b)      bit i set where element i == the lane of b, for kPerVec elements
// and may provide chunk_eq_mask(const T*, b), the 64-bit mask of a whole chunk, and
// eq_mask32(const T*, b), that of 32 elements, where it can do better than combining eq_mask
// results; argmax_chunk(const T*), the first index of the maximum of exactly kChunk elements in
// one pass (GV vectors at 256 px input); and argmax_short(const T*, n) with kShortMin, its own
// one-pass kernel for kShortMin <= n <= kShortMax. Each must give the same index.
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

template <class V, class = void>
struct has_argmax_short : std::false_type {};
template <class V>
struct has_argmax_short<V, decltype(void(V::argmax_short(nullptr, 0)))> : std::true_type {};

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

template <class T>
constexpr T lowest() noexcept {
  return std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                              : std::numeric_limits<T>::lowest();
}

template <class V, class = void>
struct has_eq_mask32 : std::false_type {};
template <class V>
struct has_eq_mask32<V, decltype(void(V::eq_mask32(nullptr, typename V::Vec{})))>
    : std::true_type {};

/// Bits of mask(i) << i for windows of kW elements at 0, kW, ... and a last one at n - kW, which
/// overlaps the one before it when kW does not divide n (an element's bit is the same both
/// times): bit i of the result is element i's, for kW <= n <= 64.
template <std::size_t kW, class Mask>
inline std::uint64_t gather_masks(std::size_t n, Mask mask) noexcept {
  std::uint64_t bits = static_cast<std::uint64_t>(mask(n - kW)) << (n - kW);
  for (std::size_t i = 0; i + kW < n; i += kW) bits |= static_cast<std::uint64_t>(mask(i)) << i;
  return bits;
}

/// Bit i set where v[i] == the lanes of b, for kPerVec <= n <= kChunk: the traits' whole-chunk
/// mask for a chunk, 32-element masks where the traits have them (and n allows), else one mask
/// per register.
template <class V>
inline std::uint64_t equal_bits(const typename V::T* v, std::size_t n,
                                typename V::Vec b) noexcept {
  if constexpr (has_chunk_eq_mask<V>::value) {
    if (n == kChunk) return V::chunk_eq_mask(v, b);
  }
  if constexpr (has_eq_mask32<V>::value) {
    if (n >= 32) return gather_masks<32>(n, [&](std::size_t i) { return V::eq_mask32(v + i, b); });
  }
  return gather_masks<V::kPerVec>(n, [&](std::size_t i) { return V::eq_mask(v + i, b); });
}

/// The first maximum of a short row, kPerVec <= n <= kShortMax (every GV vector from 64 to
/// 512 px input), in one pass: registers at 0, kPerVec, ... and a last one at n - kPerVec that
/// overlaps the one before it when kPerVec does not divide n (an element seen twice changes
/// neither the maximum nor the first index equal to it), reduced in two max chains seeded with
/// the lowest value (so NaN is always the dropped operand); one splat; then the elements equal
/// to the maximum as a 64-bit mask (rows over kChunk: one for the first kChunk elements, one for
/// the last kChunk, the first taking precedence) and a count of trailing zeros. No branch
/// depends on the data.
template <class V>
inline std::size_t argmax_short(const typename V::T* v, std::size_t n) noexcept {
  using T = typename V::T;
  using Vec = typename V::Vec;
  constexpr std::size_t kP = V::kPerVec;
  const std::size_t last = n - kP;
  const Vec seed = V::set1(lowest<T>());
  Vec a = V::max_keep(V::load(v + last), seed);
  Vec b = seed;
  std::size_t i = 0;
  for (; i + kP < last; i += 2 * kP) {
    a = V::max_keep(V::load(v + i), a);
    b = V::max_keep(V::load(v + i + kP), b);
  }
  if (i < last) a = V::max_keep(V::load(v + i), a);
  const Vec m = V::splat_max(V::max_keep(b, a));
  if constexpr (std::numeric_limits<T>::has_infinity) {
    if (!(V::first(m) > lowest<T>())) return 0;  // nothing beats -inf (all NaN or -inf)
  }
  if (n <= kChunk) return static_cast<std::size_t>(__builtin_ctzll(equal_bits<V>(v, n, m)));
  const std::uint64_t head = equal_bits<V>(v, kChunk, m);
  const std::uint64_t tail = equal_bits<V>(v + n - kChunk, kChunk, m);
  return head != 0 ? static_cast<std::size_t>(__builtin_ctzll(head))
                   : n - kChunk + static_cast<std::size_t>(__builtin_ctzll(tail));
}

/// The chunked two-pass scan, for any length. A row of at least kChunk elements ends with a
/// chunk at n - kChunk that overlaps the one before it (as argmax_short's last register does),
/// so only rows shorter than a register reach the element-by-element loop.
template <class V>
inline std::size_t argmax_scan(const typename V::T* v, std::size_t n) noexcept {
  using T = typename V::T;
  using Vec = typename V::Vec;
  constexpr std::size_t kVecs = kChunk / V::kPerVec;
  constexpr std::size_t kAcc = kVecs < 4 ? kVecs : 4;  // independent chains for ILP
  T best = lowest<T>();
  Vec best_v = V::set1(best);
  std::size_t best_chunk = n;
  const auto chunk = [&](std::size_t j) {
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
  };
  std::size_t j = 0;
  for (; j + kChunk <= n; j += kChunk) chunk(j);
  if (j < n && j > 0) {  // the overlapping last chunk: a later chunk wins only when strictly
    chunk(n - kChunk);   // greater, so a maximum it shares with the one before stays there
    j = n;
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

/// Short rows (GV vectors, docs/native.md): the traits' argmax_short (from V::kShortMin) where
/// there is one, else the generic argmax_short above.
template <class V>
constexpr bool is_short(std::size_t n) noexcept {
  if constexpr (has_argmax_short<V>::value)
    return n >= V::kShortMin && n <= kShortMax;
  else
    return n >= V::kPerVec && n <= kShortMax;
}

template <class V>
inline std::size_t short_row(const typename V::T* v, std::size_t n) noexcept {
  if constexpr (has_argmax_short<V>::value)
    return V::argmax_short(v, n);
  else
    return argmax_short<V>(v, n);
}

/// Calls run(argmax) once with the row kernel for rows of `len`, chosen once per call: rows of
/// exactly kChunk take the traits' one-pass argmax_chunk where there is one (else the scan, with
/// its one chunk), other short rows short_row, the rest (heatmaps, and rows shorter than a
/// register) the scan. Each choice is its
/// own instance of the caller's row loop, with no test of the length inside it.
template <class V, class Run>
inline void with_row_kernel(std::size_t len, Run run) noexcept {
  using T = typename V::T;
  if (len == kChunk) {
    if constexpr (has_argmax_chunk<V>::value)
      return run([](const T* v, std::size_t) { return V::argmax_chunk(v); });
    else  // one chunk: its four max chains beat argmax_short's two (SSE4.1 floats)
      return run([](const T* v, std::size_t) { return argmax_scan<V>(v, kChunk); });
  }
  if (is_short<V>(len)) return run([](const T* v, std::size_t n) { return short_row<V>(v, n); });
  run([](const T* v, std::size_t n) { return argmax_scan<V>(v, n); });
}

template <class V>
void argmax_rows(const typename V::T* base, std::size_t rows, std::size_t len, std::size_t stride,
                 std::size_t* out) noexcept {
  with_row_kernel<V>(len, [&](auto argmax) {
    for (std::size_t r = 0; r < rows; ++r) out[r] = argmax(base + r * stride, len);
  });
}

template <class V>
void locate_rows(const typename V::T* base, std::size_t rows, std::size_t len, std::size_t stride,
                 const VectorRules& rules, const Quant& quant, float* coord,
                 std::size_t coord_stride, float* peak) noexcept {
  with_row_kernel<V>(len, [&](auto argmax) {
    locate_rows_any(base, rows, len, stride, rules, quant, coord, coord_stride, peak, argmax);
  });
}

/// A path's kernels for traits V (and its whole-batch decoder, if any), as its table takes them.
/// A constant, not a function: no code compiled for the path's ISA runs when the table is read.
template <class V, Faces<typename V::T> kFaces = nullptr>
constexpr TypeKernels<typename V::T> kTypeKernels{&argmax_rows<V>, &locate_rows<V>, kFaces};

}  // namespace simd
}  // namespace detail
}  // namespace gv
