// The AVX2 argmax path (x86-64): 256-bit registers, 8 floats or 32 bytes each. Compiled for AVX2
// through a target pragma (not a -m flag), so only the functions below use it; isa.cpp checks
// the CPU before selecting it.
#include "kernels.hpp"

#ifdef GV_HAVE_X86_KERNELS

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "rules.hpp"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2")
#endif

#include "argmax_simd.hpp"

namespace gv {
namespace detail {
namespace {

struct F32 {
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

template <class Byte>
struct Bytes {
  using T = Byte;
  using Vec = __m256i;
  static constexpr bool kSigned = std::numeric_limits<Byte>::is_signed;
  static constexpr std::size_t kPerVec = 32;
  static Vec set1(T x) { return _mm256_set1_epi8(static_cast<char>(x)); }
  static Vec load(const T* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static Vec max_keep(Vec a, Vec acc) {
    return kSigned ? _mm256_max_epi8(a, acc) : _mm256_max_epu8(a, acc);
  }
  static bool any_gt(Vec m, Vec b) {
    return static_cast<unsigned>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(max_keep(m, b), b))) !=
           0xFFFFFFFFu;
  }
  static Vec splat_max(Vec m) {
    m = max_keep(m, _mm256_permute2x128_si256(m, m, 1));
    m = max_keep(m, _mm256_shuffle_epi32(m, _MM_SHUFFLE(1, 0, 3, 2)));
    m = max_keep(m, _mm256_shuffle_epi32(m, _MM_SHUFFLE(2, 3, 0, 1)));
    m = max_keep(m, _mm256_shufflelo_epi16(_mm256_shufflehi_epi16(m, 0xB1), 0xB1));
    return max_keep(m, _mm256_or_si256(_mm256_slli_epi16(m, 8), _mm256_srli_epi16(m, 8)));
  }
  static T first(Vec m) {
    return static_cast<T>(_mm_cvtsi128_si32(_mm256_castsi256_si128(m)) & 0xFF);
  }
  static unsigned eq_mask(const T* p, Vec b) {
    return static_cast<unsigned>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(load(p), b)));
  }
  // One pass over 64 bytes: 16-bit keys (inverted value << 8 | index) whose unsigned minimum is
  // the first maximum; PHMINPOSUW finishes the last 8 keys. Inverting (x ^ 0x7F for int8,
  // x ^ 0xFF for uint8) turns "largest value" into "smallest high byte" in unsigned order.
  static std::size_t argmax_chunk(const T* p) {
    const Vec flip = _mm256_set1_epi8(static_cast<char>(kSigned ? 0x7F : 0xFF));
    const Vec lo_idx = _mm256_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                        17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
                                        31);
    const Vec hi_idx = _mm256_add_epi8(lo_idx, _mm256_set1_epi8(32));
    const Vec a = _mm256_xor_si256(load(p), flip);
    const Vec b = _mm256_xor_si256(load(p + 32), flip);
    // unpack works within 128-bit lanes on both operands alike, so index i stays beside byte i.
    const Vec k = _mm256_min_epu16(
        _mm256_min_epu16(_mm256_unpacklo_epi8(lo_idx, a), _mm256_unpackhi_epi8(lo_idx, a)),
        _mm256_min_epu16(_mm256_unpacklo_epi8(hi_idx, b), _mm256_unpackhi_epi8(hi_idx, b)));
    const __m128i k8 = _mm_min_epu16(_mm256_castsi256_si128(k), _mm256_extracti128_si256(k, 1));
    return static_cast<std::size_t>(_mm_cvtsi128_si32(_mm_minpos_epu16(k8)) & 0xFF);
  }
};

}  // namespace
}  // namespace detail
}  // namespace gv

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

// Defined after the pragma ends: building the table must not itself need AVX2. The kernels
// it points to are template instances defined under the pragma, and carry its target.
namespace gv {
namespace detail {

const Kernels& avx2_kernels() noexcept {
  static const Kernels k{Isa::avx2, &simd::argmax_rows<F32>,
                         &simd::argmax_rows<Bytes<std::int8_t>>,
                         &simd::argmax_rows<Bytes<std::uint8_t>>,
                         &simd::locate_rows<F32>,
                         &simd::locate_rows<Bytes<std::int8_t>>,
                         &simd::locate_rows<Bytes<std::uint8_t>>};
  return k;
}

}  // namespace detail
}  // namespace gv

#endif  // GV_HAVE_X86_KERNELS
