// The SSE4.1 argmax path (x86-64): 128-bit registers, 4 floats or 16 bytes each. Compiled for
// SSE4.1 through a target pragma (not a -m flag), so only the functions below use it; isa.cpp
// selects it only where the table's CPU check passes.
#include "kernels.hpp"

#ifdef GV_HAVE_X86_KERNELS

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "rules.hpp"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("sse4.1"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("sse4.1")
#endif

#include "argmax_simd.hpp"
#include "argmax_keys_x86.hpp"

namespace gv {
namespace detail {
namespace {

struct F32 {
  using T = float;
  using Vec = __m128;
  static constexpr std::size_t kPerVec = 4;
  static Vec set1(T x) { return _mm_set1_ps(x); }
  static Vec load(const T* p) { return _mm_loadu_ps(p); }
  // MAXPS returns its second operand when either is NaN.
  static Vec max_keep(Vec a, Vec acc) { return _mm_max_ps(a, acc); }
  static bool any_gt(Vec m, Vec b) { return _mm_movemask_ps(_mm_cmpgt_ps(m, b)) != 0; }
  static Vec splat_max(Vec m) {
    m = _mm_max_ps(m, _mm_shuffle_ps(m, m, _MM_SHUFFLE(1, 0, 3, 2)));
    return _mm_max_ps(m, _mm_shuffle_ps(m, m, _MM_SHUFFLE(2, 3, 0, 1)));
  }
  static T first(Vec m) { return _mm_cvtss_f32(m); }
  static unsigned eq_mask(const T* p, Vec b) {
    return static_cast<unsigned>(_mm_movemask_ps(_mm_cmpeq_ps(load(p), b)));
  }
};

// Bytes: hmax folds the 16 lanes by halves; signed and unsigned differ only in max and compare.
template <class Byte>
struct Bytes {
  using T = Byte;
  using Vec = __m128i;
  static constexpr bool kSigned = std::numeric_limits<Byte>::is_signed;
  static constexpr std::size_t kPerVec = 16;
  static Vec set1(T x) { return _mm_set1_epi8(static_cast<char>(x)); }
  static Vec load(const T* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
  static Vec max_keep(Vec a, Vec acc) {
    return kSigned ? _mm_max_epi8(a, acc) : _mm_max_epu8(a, acc);
  }
  static bool any_gt(Vec m, Vec b) {
    // m > b somewhere  <=>  max(m, b) != b somewhere.
    return _mm_movemask_epi8(_mm_cmpeq_epi8(max_keep(m, b), b)) != 0xFFFF;
  }
  static Vec splat_max(Vec m) {
    m = max_keep(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(1, 0, 3, 2)));
    m = max_keep(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(2, 3, 0, 1)));
    m = max_keep(m, _mm_shufflelo_epi16(_mm_shufflehi_epi16(m, 0xB1), 0xB1));
    return max_keep(m, _mm_or_si128(_mm_slli_epi16(m, 8), _mm_srli_epi16(m, 8)));
  }
  static T first(Vec m) { return static_cast<T>(_mm_cvtsi128_si32(m) & 0xFF); }
  static unsigned eq_mask(const T* p, Vec b) {
    return static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(load(p), b)));
  }
  // Rows of 16 to kShortMax bytes (64: every GV vector of the shipped models) in one pass of
  // 16-bit keys (argmax_keys_x86.hpp).
  static constexpr std::size_t kShortMin = 16;
  static std::size_t argmax_short(const T* p, std::size_t n) {
    return keys_argmax<Keys128<T>>(p, n);
  }
  static std::size_t argmax_chunk(const T* p) { return keys_argmax<Keys128<T>>(p, kChunk); }
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

// Defined outside the pragma: reading the table and checking the CPU must not need SSE4.1
// themselves. The kernels it points to are template instances defined under the pragma, and
// carry its target.
const Kernels* sse41_kernels() noexcept {
#ifdef GV_HAVE_X86_KERNELS
  static constexpr Kernels k{[]() noexcept { return __builtin_cpu_supports("sse4.1") != 0; },
                             simd::kTypeKernels<F32>, simd::kTypeKernels<Bytes<std::int8_t>>,
                             simd::kTypeKernels<Bytes<std::uint8_t>>};
  return &k;
#else
  return nullptr;  // not an x86-64 build
#endif
}

}  // namespace detail
}  // namespace gv
