// The AVX-512 argmax path (x86-64), float32 only: a GV vector (a row of exactly 64 floats) is
// four 512-bit registers, reduced in one pass and searched with compares straight into mask
// registers. Other float rows (heatmaps) scan with the 256-bit traits of the AVX2 path: a 512-bit
// general scan was as fast on heatmaps in cache but 3-16% slower on heatmaps read from DRAM
// (same-process A/B on a Zen 4 EPYC). int8/uint8 are the AVX2 kernels: an AVX-512BW byte path
// was slower (GV int8 +3%, heatmap int8 +35%). Compiled through a target pragma (not a -m
// flag), so only the functions below use it; the table's CPU check asks the CPU and the OS
// (XCR0).
#include "kernels.hpp"

#ifdef GV_HAVE_X86_KERNELS

#include <cpuid.h>
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "rules.hpp"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw")
// GCC 12's 512-bit intrinsics pass _mm512_undefined_ps() (a self-initialised variable) as the
// unused merge operand, which -Wmaybe-uninitialized reports wherever they inline (GCC bug 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "argmax_simd.hpp"
#include "argmax_f32x8.hpp"

namespace gv {
namespace detail {
namespace {

// One 64-float chunk in 512-bit registers (16 floats each).
struct Chunk16 {
  using Vec = __m512;
  // VMAXPS returns its second operand when either is NaN.
  static Vec max_keep(Vec a, Vec acc) { return _mm512_max_ps(a, acc); }
  // Halve down to 128 bits (cheaper than 512-bit shuffles where those are split in two), then
  // broadcast the lane.
  static Vec splat_max(Vec m) {
    const __m256 h = _mm256_max_ps(
        _mm512_castps512_ps256(m),
        _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(m), 1)));
    __m128 q = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    q = _mm_max_ps(q, _mm_shuffle_ps(q, q, _MM_SHUFFLE(1, 0, 3, 2)));
    q = _mm_max_ps(q, _mm_shuffle_ps(q, q, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm512_broadcastss_ps(q);
  }
  static __mmask16 eq(const float* p, Vec b) {
    return _mm512_cmp_ps_mask(_mm512_loadu_ps(p), b, _CMP_EQ_OQ);
  }
  // The four 16-bit compare masks joined in mask registers (KUNPCKWD, KUNPCKDQ): element i is
  // bit i, with no packing or lane permutes.
  static std::uint64_t eq_mask64(const float* p, Vec b) {
    const __mmask32 lo = _mm512_kunpackw(eq(p + 16, b), eq(p, b));
    const __mmask32 hi = _mm512_kunpackw(eq(p + 48, b), eq(p + 32, b));
    return _cvtmask64_u64(_mm512_kunpackd(hi, lo));
  }
  // Two max chains seeded with -inf (so a NaN is always the dropped operand), one splat, four
  // compares; the first index of the maximum, 0 when nothing beats -inf.
  static std::size_t argmax(const float* p) {
    const Vec seed = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
    const Vec a = max_keep(_mm512_loadu_ps(p + 32), max_keep(_mm512_loadu_ps(p), seed));
    const Vec b = max_keep(_mm512_loadu_ps(p + 48), max_keep(_mm512_loadu_ps(p + 16), seed));
    const Vec m = splat_max(max_keep(b, a));
    if (!(_mm512_cvtss_f32(m) > -std::numeric_limits<float>::infinity())) return 0;
    return static_cast<std::size_t>(__builtin_ctzll(eq_mask64(p, m)));
  }
};

// 512-bit traits for argmax_short (argmax_simd.hpp): 16 floats a register, compares straight
// into a mask register.
struct F32x16 {
  using T = float;
  using Vec = __m512;
  static constexpr std::size_t kPerVec = 16;
  static Vec set1(T x) { return _mm512_set1_ps(x); }
  static Vec load(const T* p) { return _mm512_loadu_ps(p); }
  static Vec max_keep(Vec a, Vec acc) { return Chunk16::max_keep(a, acc); }
  static Vec splat_max(Vec m) { return Chunk16::splat_max(m); }
  static T first(Vec m) { return _mm512_cvtss_f32(m); }
  static unsigned eq_mask(const T* p, Vec b) { return Chunk16::eq(p, b); }
  static std::uint64_t chunk_eq_mask(const T* p, Vec b) { return Chunk16::eq_mask64(p, b); }
};

struct F32 : F32x8 {
  static std::size_t argmax_chunk(const T* p) { return Chunk16::argmax(p); }
  // Other GV vectors: 512-bit registers from 16 floats on, 256-bit below.
  static constexpr std::size_t kShortMin = F32x8::kPerVec;
  static std::size_t argmax_short(const T* p, std::size_t n) {
    return n < F32x16::kPerVec ? simd::argmax_short<F32x8>(p, n)
                               : simd::argmax_short<F32x16>(p, n);
  }
};

}  // namespace
}  // namespace detail
}  // namespace gv

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif

#endif  // GV_HAVE_X86_KERNELS

namespace gv {
namespace detail {

#ifdef GV_HAVE_X86_KERNELS
namespace {

// AVX-512F and AVX-512BW in CPUID leaf 7, and the OS saving their registers: OSXSAVE first (so
// XGETBV may run), then XCR0 bits 1, 2 (SSE, AVX) and 5, 6, 7 (opmask, upper halves of
// zmm0-15, zmm16-31). CPUID can trap to the hypervisor in a VM, so this runs once.
bool detect_avx512() noexcept {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(1, &a, &b, &c, &d) == 0 || (c & bit_OSXSAVE) == 0) return false;
  std::uint32_t xcr0 = 0, xcr0_hi = 0;
  __asm__ volatile("xgetbv" : "=a"(xcr0), "=d"(xcr0_hi) : "c"(0));
  constexpr std::uint32_t kZmmState = (1u << 1) | (1u << 2) | (1u << 5) | (1u << 6) | (1u << 7);
  if ((xcr0 & kZmmState) != kZmmState) return false;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0) return false;
  return (b & bit_AVX512F) != 0 && (b & bit_AVX512BW) != 0;
}

bool avx512_usable() noexcept {
  static const bool usable = detect_avx512();
  return usable;
}

}  // namespace
#endif

// Defined outside the pragma: reading the table and checking the CPU must not need AVX-512
// themselves. The float kernels are template instances defined under the pragma, and carry its
// target; int8/uint8 are avx2's, so this table alone is built at run time.
const Kernels* avx512_kernels() noexcept {
#ifdef GV_HAVE_X86_KERNELS
  static const Kernels k{&avx512_usable, simd::kTypeKernels<F32>, avx2_kernels()->i8,
                         avx2_kernels()->u8};
  return &k;
#else
  return nullptr;  // not an x86-64 build
#endif
}

}  // namespace detail
}  // namespace gv
