// The AVX2 argmax path (x86-64): 256-bit registers, 8 floats or 32 bytes each. Compiled for AVX2
// through a target pragma (not a -m flag), so only the functions below use it; isa.cpp checks
// the CPU before selecting it.
#include "kernels.hpp"

#ifdef GV_HAVE_X86_KERNELS

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <limits>

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
  static T hmax(Vec m) {
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
    return _mm_cvtss_f32(h);
  }
  static unsigned eq_mask(const T* p, Vec b) {
    return static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(load(p), b, _CMP_EQ_OQ)));
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
  static __m128i max128(__m128i a, __m128i b) {
    return kSigned ? _mm_max_epi8(a, b) : _mm_max_epu8(a, b);
  }
  static T hmax(Vec m) {
    __m128i h = max128(_mm256_castsi256_si128(m), _mm256_extracti128_si256(m, 1));
    h = max128(h, _mm_srli_si128(h, 8));
    h = max128(h, _mm_srli_si128(h, 4));
    h = max128(h, _mm_srli_si128(h, 2));
    h = max128(h, _mm_srli_si128(h, 1));
    return static_cast<T>(_mm_cvtsi128_si32(h) & 0xFF);
  }
  static unsigned eq_mask(const T* p, Vec b) {
    return static_cast<unsigned>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(load(p), b)));
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
                         &simd::argmax_rows<Bytes<std::uint8_t>>};
  return k;
}

}  // namespace detail
}  // namespace gv

#endif  // GV_HAVE_X86_KERNELS
