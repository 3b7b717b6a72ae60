// Internal (aarch64): the first maximum of one 64-element row (a GV vector) in few instructions.
// Shared by the argmax kernels (argmax_neon.cpp) and the face decoder (vectors64_neon.cpp).
// Include after <arm_neon.h>, <cstddef> and <cstdint>.
//
// Two levels. The row is loaded de-interleaved (LD4): lane n of register k holds element 4n + k,
// so the element-wise max of the four registers holds the maximum of each "quad" of elements
// 4n..4n+3, in quad order. Its maximum M is the row's; one compare of the quad maxima with M,
// narrowed by SHRN #4 to a 64-bit mask with a nibble per quad, gives the first quad holding M
// (count trailing zeros: 4 x its number, i.e. its first element). The first element equal to M
// inside that quad is the first maximum of the row. Float rows take four LD4s (16 registers).
// FMAX returns NaN when any element is NaN; then nothing equals M and the masks are empty.
#pragma once

namespace gv {
namespace detail {
namespace neon64 {

/// Count of trailing zeros of a non-zero mask (RBIT + CLZ).
inline unsigned ctz(std::uint64_t mask) { return static_cast<unsigned>(__builtin_ctzll(mask)); }

/// Bit 4n of the result set where byte lane n of `eq` (0 or 0xFF) is set; every 4th bit.
inline std::uint64_t nibble_mask(uint8x16_t eq) {
  return vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(eq), 4)), 0);
}

/// int8 and uint8 rows.
struct S8 {
  using T = std::int8_t;
  static uint8x16x4_t load(const T* p) {
    return vld4q_u8(reinterpret_cast<const std::uint8_t*>(p));
  }
  static uint8x16_t max(uint8x16_t a, uint8x16_t b) {
    return vreinterpretq_u8_s8(vmaxq_s8(vreinterpretq_s8_u8(a), vreinterpretq_s8_u8(b)));
  }
  static uint8x16_t splat_max(uint8x16_t m) {
    return vreinterpretq_u8_s8(vdupq_n_s8(vmaxvq_s8(vreinterpretq_s8_u8(m))));
  }
  static uint8x16_t gt(uint8x16_t a, uint8x16_t b) {
    return vcgtq_s8(vreinterpretq_s8_u8(a), vreinterpretq_s8_u8(b));
  }
  static uint8x16_t pairwise_min(uint8x16_t a) {  // lane k < 8: min(a[2k], a[2k + 1])
    return vreinterpretq_u8_s8(vpminq_s8(vreinterpretq_s8_u8(a), vreinterpretq_s8_u8(a)));
  }
};
struct U8 {
  using T = std::uint8_t;
  static uint8x16x4_t load(const T* p) { return vld4q_u8(p); }
  static uint8x16_t max(uint8x16_t a, uint8x16_t b) { return vmaxq_u8(a, b); }
  static uint8x16_t splat_max(uint8x16_t m) { return vdupq_n_u8(vmaxvq_u8(m)); }
  static uint8x16_t gt(uint8x16_t a, uint8x16_t b) { return vcgtq_u8(a, b); }
  static uint8x16_t pairwise_min(uint8x16_t a) { return vpminq_u8(a, a); }
};

/// First element of the first quad of 64 bytes that holds the maximum (a multiple of 4).
template <class B>
inline std::size_t first_quad_bytes(const typename B::T* p) {
  const uint8x16x4_t v = B::load(p);
  const uint8x16_t quads = B::max(B::max(v.val[0], v.val[1]), B::max(v.val[2], v.val[3]));
  return ctz(nibble_mask(vceqq_u8(quads, B::splat_max(quads))));
}

/// First index of the maximum of 64 bytes: the first element of its quad equal to the quad's max.
template <class B>
inline std::size_t first_max_bytes(const typename B::T* p) {
  const std::size_t quad = first_quad_bytes<B>(p);
  typename B::T m = p[quad];
  for (std::size_t k = 1; k < 4; ++k) m = p[quad + k] > m ? p[quad + k] : m;
  std::size_t i = quad;
  while (p[i] != m) ++i;
  return i;
}

/// First index of the maximum of 64 floats, and the maximum itself in *max (NaN when the row
/// holds NaN; the index is then 63 and means nothing).
inline std::size_t first_max_f32(const float* p, float* max) {
  float32x4_t quads[4];  // quads[g] lane l: the maximum of elements 16g + 4l .. 16g + 4l + 3
  for (int g = 0; g < 4; ++g) {
    const float32x4x4_t v = vld4q_f32(p + 16 * g);
    quads[g] = vmaxq_f32(vmaxq_f32(v.val[0], v.val[1]), vmaxq_f32(v.val[2], v.val[3]));
  }
  const float32x4_t m = vdupq_n_f32(
      vmaxvq_f32(vmaxq_f32(vmaxq_f32(quads[0], quads[1]), vmaxq_f32(quads[2], quads[3]))));
  *max = vgetq_lane_f32(m, 0);
  // The four compare results narrowed to one byte lane per quad, in order.
  const uint16x8_t lo = vuzp1q_u16(vreinterpretq_u16_u32(vceqq_f32(quads[0], m)),
                                   vreinterpretq_u16_u32(vceqq_f32(quads[1], m)));
  const uint16x8_t hi = vuzp1q_u16(vreinterpretq_u16_u32(vceqq_f32(quads[2], m)),
                                   vreinterpretq_u16_u32(vceqq_f32(quads[3], m)));
  const uint8x16_t eq = vuzp1q_u8(vreinterpretq_u8_u16(lo), vreinterpretq_u8_u16(hi));
  // With NaN nothing is equal: the top bits stand in (quad 15, lane 3: index 63).
  const std::size_t quad = ctz(nibble_mask(eq) | 1ull << 60);
  const uint16x4_t lanes = vmovn_u32(vceqq_f32(vld1q_f32(p + quad), m));
  return quad + ctz(vget_lane_u64(vreinterpret_u64_u16(lanes), 0) | 1ull << 48) / 16;
}

}  // namespace neon64
}  // namespace detail
}  // namespace gv
