// Internal: the 256-bit float32 traits (8 floats a register) of the AVX2 path, for
// argmax_simd.hpp. Shared by argmax_avx2.cpp and argmax_avx512.cpp, which include it after their
// target pragma (after argmax_simd.hpp), so each compiles its own copy for its own target; it is
// in an unnamed namespace for that reason (no template instance may be shared between the two).
// Like argmax_simd.hpp it includes no headers: the including file brings <immintrin.h>,
// <cstddef>, <cstdint> and <limits> before the pragma.
#pragma once

namespace gv {
namespace detail {
namespace {

struct F32x8 {
  using T = float;
  using Vec = __m256;
  static constexpr std::size_t kPerVec = 8;
  static Vec set1(T x) { return _mm256_set1_ps(x); }
  static Vec load(const T* p) { return _mm256_loadu_ps(p); }
  // VMAXPS returns its second operand when either is NaN.
  static Vec max_keep(Vec a, Vec acc) { return _mm256_max_ps(a, acc); }
  static bool any_gt(Vec m, Vec b) {
    return _mm256_movemask_ps(_mm256_cmp_ps(m, b, _CMP_GT_OQ)) != 0;
  }
  static Vec splat_max(Vec m) {
    m = _mm256_max_ps(m, _mm256_permute2f128_ps(m, m, 1));
    m = _mm256_max_ps(m, _mm256_shuffle_ps(m, m, _MM_SHUFFLE(1, 0, 3, 2)));
    return _mm256_max_ps(m, _mm256_shuffle_ps(m, m, _MM_SHUFFLE(2, 3, 0, 1)));
  }
  static T first(Vec m) { return _mm256_cvtss_f32(m); }
  static unsigned eq_mask(const T* p, Vec b) {
    return static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(load(p), b, _CMP_EQ_OQ)));
  }
  // 32 compare results as one byte mask in element order: pack 32-bit lanes to bytes (which
  // interleaves 4-element groups across the 128-bit halves), then put the groups back in order.
  static std::uint32_t eq_mask32(const T* p, Vec b) {
    const __m256i c0 = _mm256_castps_si256(_mm256_cmp_ps(load(p), b, _CMP_EQ_OQ));
    const __m256i c1 = _mm256_castps_si256(_mm256_cmp_ps(load(p + 8), b, _CMP_EQ_OQ));
    const __m256i c2 = _mm256_castps_si256(_mm256_cmp_ps(load(p + 16), b, _CMP_EQ_OQ));
    const __m256i c3 = _mm256_castps_si256(_mm256_cmp_ps(load(p + 24), b, _CMP_EQ_OQ));
    const __m256i bytes =
        _mm256_packs_epi16(_mm256_packs_epi32(c0, c1), _mm256_packs_epi32(c2, c3));
    const __m256i ordered =
        _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    return static_cast<std::uint32_t>(_mm256_movemask_epi8(ordered));
  }
  static std::uint64_t chunk_eq_mask(const T* p, Vec b) {
    return eq_mask32(p, b) | (static_cast<std::uint64_t>(eq_mask32(p + 32, b)) << 32);
  }
  // One chunk (a GV vector of 64) in one pass: two max chains seeded with -inf (so a NaN is
  // always the dropped operand), one splat, one compare; no chunk bookkeeping.
  static std::size_t argmax_chunk(const T* p) {
    const Vec seed = set1(-std::numeric_limits<T>::infinity());
    Vec a = max_keep(load(p), seed);
    Vec b = max_keep(load(p + 8), seed);
#pragma GCC unroll 3
    for (std::size_t i = 16; i < 64; i += 16) {
      a = max_keep(load(p + i), a);
      b = max_keep(load(p + i + 8), b);
    }
    const Vec m = splat_max(max_keep(b, a));
    if (!(first(m) > -std::numeric_limits<T>::infinity())) return 0;  // nothing beats -inf
    return static_cast<std::size_t>(__builtin_ctzll(chunk_eq_mask(p, m)));
  }
};

}  // namespace
}  // namespace detail
}  // namespace gv
