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
#include "argmax_keys_x86.hpp"

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
  // Rows of 16 to kShortMax bytes in one pass of 16-bit keys (argmax_keys_x86.hpp): 32 bytes a
  // register from 32 bytes on, 16 below.
  static constexpr std::size_t kShortMin = 16;
  static std::size_t argmax_short(const T* p, std::size_t n) {
    return n < 32 ? keys_argmax<Keys128<T>>(p, n) : keys_argmax<Keys256<T>>(p, n);
  }
  static std::size_t argmax_chunk(const T* p) { return argmax_short(p, kChunk); }
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
