// The AVX2 argmax path (x86-64): 256-bit registers, 8 floats or 32 bytes each. Compiled for AVX2
// through a target pragma (not a -m flag), so only the functions below use it; isa.cpp selects
// it only where the table's CPU check passes.
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
#include "argmax_f32x8.hpp"

namespace gv {
namespace detail {
namespace {

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

#endif  // GV_HAVE_X86_KERNELS

namespace gv {
namespace detail {

// Defined outside the pragma: reading the table and checking the CPU must not need AVX2
// themselves. The kernels it points to are template instances defined under the pragma, and
// carry its target.
const Kernels* avx2_kernels() noexcept {
#ifdef GV_HAVE_X86_KERNELS
  static constexpr Kernels k{[]() noexcept { return __builtin_cpu_supports("avx2") != 0; },
                             simd::kTypeKernels<F32x8>, simd::kTypeKernels<Bytes<std::int8_t>>,
                             simd::kTypeKernels<Bytes<std::uint8_t>>};
  return &k;
#else
  return nullptr;  // not an x86-64 build
#endif
}

}  // namespace detail
}  // namespace gv
