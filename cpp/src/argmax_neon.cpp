// The NEON argmax path (aarch64): 128-bit registers, 4 floats or 16 bytes each. NEON is part of
// the aarch64 baseline, so no target switch or CPU check is needed. Rows of 64 take
// rows_neon.hpp, other short rows argmax_short (argmax_simd.hpp); whole batches of GV vectors
// with the quarter rule, vectors_neon.cpp.
#include "kernels.hpp"

#ifdef GV_HAVE_NEON_KERNELS

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "rules.hpp"

#include "argmax_simd.hpp"
#include "rows_neon.hpp"

namespace gv {
namespace detail {
namespace {

struct F32 {
  using T = float;
  using Vec = float32x4_t;
  static constexpr std::size_t kPerVec = 4;
  static Vec set1(T x) { return vdupq_n_f32(x); }
  static Vec load(const T* p) { return vld1q_f32(p); }
  // FMAX propagates NaN and FMAXNM drops quiet NaN only, so select on a strict compare instead.
  static Vec max_keep(Vec a, Vec acc) { return vbslq_f32(vcgtq_f32(a, acc), a, acc); }
  static bool any_gt(Vec m, Vec b) { return vmaxvq_u32(vcgtq_f32(m, b)) != 0; }
  static Vec splat_max(Vec m) { return vdupq_n_f32(vmaxvq_f32(m)); }
  static T first(Vec m) { return vgetq_lane_f32(m, 0); }
  static unsigned eq_mask(const T* p, Vec b) {
    static const uint32_t kBits[4] = {1, 2, 4, 8};
    return vaddvq_u32(vandq_u32(vceqq_f32(load(p), b), vld1q_u32(kBits)));
  }
  // A row of 64 (a GV vector): the two-level search of rows_neon.hpp; a row holding NaN takes
  // the general scan, where NaN never wins.
  static std::size_t argmax_chunk(const T* p) {
    float max;
    const std::size_t i =
        neon_rows::FloatRows<4, neon_rows::Window::whole>(kChunk).first_max(p, &max);
    return max == max ? i : simd::argmax_scan<F32>(p, kChunk);
  }
};

// Lane bits for a 16-byte compare result: lane i contributes 1 << (i % 8) to its half.
inline unsigned byte_mask(uint8x16_t eq) {
  static const uint8_t kBits[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  const uint8x16_t m = vandq_u8(eq, vld1q_u8(kBits));
  return vaddv_u8(vget_low_u8(m)) | (static_cast<unsigned>(vaddv_u8(vget_high_u8(m))) << 8);
}

struct I8 {
  using T = std::int8_t;
  using Vec = int8x16_t;
  static constexpr std::size_t kPerVec = 16;
  static Vec set1(T x) { return vdupq_n_s8(x); }
  static Vec load(const T* p) { return vld1q_s8(p); }
  static Vec max_keep(Vec a, Vec acc) { return vmaxq_s8(a, acc); }
  static bool any_gt(Vec m, Vec b) { return vmaxvq_u8(vcgtq_s8(m, b)) != 0; }
  static Vec splat_max(Vec m) { return vdupq_n_s8(vmaxvq_s8(m)); }
  static T first(Vec m) { return vgetq_lane_s8(m, 0); }
  static unsigned eq_mask(const T* p, Vec b) { return byte_mask(vceqq_s8(load(p), b)); }
  static std::size_t argmax_chunk(const T* p) {
    return neon_rows::first_max_bytes<neon_rows::S8>(p);
  }
};

struct U8 {
  using T = std::uint8_t;
  using Vec = uint8x16_t;
  static constexpr std::size_t kPerVec = 16;
  static Vec set1(T x) { return vdupq_n_u8(x); }
  static Vec load(const T* p) { return vld1q_u8(p); }
  static Vec max_keep(Vec a, Vec acc) { return vmaxq_u8(a, acc); }
  static bool any_gt(Vec m, Vec b) { return vmaxvq_u8(vcgtq_u8(m, b)) != 0; }
  static Vec splat_max(Vec m) { return vdupq_n_u8(vmaxvq_u8(m)); }
  static T first(Vec m) { return vgetq_lane_u8(m, 0); }
  static unsigned eq_mask(const T* p, Vec b) { return byte_mask(vceqq_u8(load(p), b)); }
  static std::size_t argmax_chunk(const T* p) {
    return neon_rows::first_max_bytes<neon_rows::U8>(p);
  }
};

}  // namespace
}  // namespace detail
}  // namespace gv

#endif  // GV_HAVE_NEON_KERNELS

namespace gv {
namespace detail {

const Kernels* neon_kernels() noexcept {
#ifdef GV_HAVE_NEON_KERNELS
  // GV vectors take vectors_neon.cpp's whole-batch decoders where it takes their length.
  static constexpr Kernels k{&baseline_cpu, simd::kTypeKernels<F32, &neon_faces<float>>,
                             simd::kTypeKernels<I8, &neon_faces<std::int8_t>>,
                             simd::kTypeKernels<U8, &neon_faces<std::uint8_t>>};
  return &k;
#else
  return nullptr;  // not an aarch64 build
#endif
}

}  // namespace detail
}  // namespace gv
