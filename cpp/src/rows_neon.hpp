// Internal (aarch64): the first maximum of one GV vector in few instructions. Shared by the
// argmax kernels (argmax_neon.cpp) and the face decoder (vectors_neon.cpp).
// Include after <arm_neon.h>, <cstddef>, <cstdint> and <limits>.
//
// Two levels. 64 elements are loaded de-interleaved (LD4): lane n of register k holds element
// 4n + k, so the element-wise max of the four registers holds the maximum of each "quad" of
// elements 4n..4n+3, in quad order. Its maximum M is the row's; one compare of the quad maxima
// with M, narrowed by SHRN #4 to a 64-bit mask with a nibble per quad, gives the first quad
// holding M (count trailing zeros: 4 x its number, i.e. its first element). The first element
// equal to M inside that quad is the first maximum of the row. Float rows take an LD4 per 16
// elements, four for 64 (16 registers). FMAX returns NaN when any element is NaN; then nothing
// equals M and the masks are empty.
//
// Rows of other lengths, a multiple of 4 (GV vectors at other input sizes), are a "shape" each,
// chosen once per batch:
//  - shorter than 64: the loads reach past the row's end (float rows: the last group of 16,
//    unless 16 divides the length; byte rows: the one window of 64, or of 32 in 8-byte registers
//    below 32, so that they never reach past the next row); the quads beyond the end
//    are set to the lowest value before the maximum is taken, so they never hold it first (when
//    M is itself the lowest value, quad 0 holds it too). The caller makes sure the bytes past
//    the end are readable (the next row, or a padded copy of the last one).
//  - 64 < n <= 128: two windows of 64, the row's first and its last elements, overlapping when
//    n < 128; a quad in both is found in the first window first, which takes precedence.
#pragma once

namespace gv {
namespace detail {
namespace neon_rows {

/// Count of trailing zeros of a non-zero mask (RBIT + CLZ).
inline unsigned ctz(std::uint64_t mask) { return static_cast<unsigned>(__builtin_ctzll(mask)); }

/// Bit 4n of the result set where byte lane n of `eq` (0 or 0xFF) is set; every 4th bit.
inline std::uint64_t nibble_mask(uint8x16_t eq) {
  return vget_lane_u64(vreinterpret_u64_u8(vshrn_n_u16(vreinterpretq_u16_u8(eq), 4)), 0);
}

/// Which loads a row of n elements takes.
enum class Window {
  whole,     ///< exactly 64 elements (floats: 16 x kGroups), the shipped models
  past_end,  ///< n < 64: the last load reaches past the end (its quads there are masked)
  two,       ///< 64 < n <= 128: the first 64 elements and the last 64
  half,      ///< bytes, 16 <= n < 32: one window of 32 (8 quads), reaching past the end
};

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
  static uint8x16_t lowest() { return vdupq_n_u8(0x80); }
  static uint8x16_t gt(uint8x16_t a, uint8x16_t b) {
    return vcgtq_s8(vreinterpretq_s8_u8(a), vreinterpretq_s8_u8(b));
  }
  static uint8x16_t pairwise_min(uint8x16_t a) {  // lane k < 8: min(a[2k], a[2k + 1])
    return vreinterpretq_u8_s8(vpminq_s8(vreinterpretq_s8_u8(a), vreinterpretq_s8_u8(a)));
  }
  // 8-byte registers (Window::half)
  static uint8x8x4_t load8(const T* p) { return vld4_u8(reinterpret_cast<const std::uint8_t*>(p)); }
  static uint8x8_t max8(uint8x8_t a, uint8x8_t b) {
    return vreinterpret_u8_s8(vmax_s8(vreinterpret_s8_u8(a), vreinterpret_s8_u8(b)));
  }
  static uint8x8_t splat_max8(uint8x8_t m) {
    return vreinterpret_u8_s8(vdup_n_s8(vmaxv_s8(vreinterpret_s8_u8(m))));
  }
  // 16-bit keys (value << 8) | low byte: as int16, value * 256 + low (Triples48)
  static uint16x8_t max16(uint16x8_t a, uint16x8_t b) {
    return vreinterpretq_u16_s16(vmaxq_s16(vreinterpretq_s16_u16(a), vreinterpretq_s16_u16(b)));
  }
  static uint16x8_t pairwise_max16(uint16x8_t a, uint16x8_t b) {
    return vreinterpretq_u16_s16(vpmaxq_s16(vreinterpretq_s16_u16(a), vreinterpretq_s16_u16(b)));
  }
};
struct U8 {
  using T = std::uint8_t;
  static uint8x16x4_t load(const T* p) { return vld4q_u8(p); }
  static uint8x16_t max(uint8x16_t a, uint8x16_t b) { return vmaxq_u8(a, b); }
  static uint8x16_t splat_max(uint8x16_t m) { return vdupq_n_u8(vmaxvq_u8(m)); }
  static uint8x16_t lowest() { return vdupq_n_u8(0); }
  static uint8x16_t gt(uint8x16_t a, uint8x16_t b) { return vcgtq_u8(a, b); }
  static uint8x16_t pairwise_min(uint8x16_t a) { return vpminq_u8(a, a); }
  static uint8x8x4_t load8(const T* p) { return vld4_u8(p); }
  static uint8x8_t max8(uint8x8_t a, uint8x8_t b) { return vmax_u8(a, b); }
  static uint8x8_t splat_max8(uint8x8_t m) { return vdup_n_u8(vmaxv_u8(m)); }
  static uint16x8_t max16(uint16x8_t a, uint16x8_t b) { return vmaxq_u16(a, b); }
  static uint16x8_t pairwise_max16(uint16x8_t a, uint16x8_t b) { return vpmaxq_u16(a, b); }
};

/// Byte lane k set for k < quads (k < 16).
inline uint8x16_t first_lanes(std::size_t quads) {
  static const std::uint8_t kLane[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  return vcltq_u8(vld1q_u8(kLane), vdupq_n_u8(static_cast<std::uint8_t>(quads)));
}

/// Rows of n bytes, 16 <= n <= 128 and a multiple of 4: the first quad holding the maximum.
/// Made once per batch (the mask for past_end), so the row loop holds no test of the shape.
template <class B, Window kWindow>
struct ByteRows {
  using T = typename B::T;
  static constexpr bool kWide = kWindow == Window::two;  ///< indices beyond 63
  static constexpr std::size_t kLen = kWindow == Window::whole ? 64 : 0;  ///< n, where fixed
  /// Elements the loads may read past a row's end (64 - n <= 32 for n >= 32, 32 - n <= 16 below).
  static constexpr std::size_t kPastEnd =
      kWindow == Window::past_end ? 32 : kWindow == Window::half ? 16 : 0;
  std::size_t n;
  uint8x16_t keep;  ///< past_end: the quads inside the row

  /// n, as a constant where the shape fixes it
  std::size_t len() const { return kLen != 0 ? kLen : n; }

  explicit ByteRows(std::size_t len) : n(len), keep() {
    if constexpr (kWindow == Window::past_end || kWindow == Window::half)
      keep = first_lanes(len / 4);
  }

  static uint8x16_t quad_max(const T* p) {
    const uint8x16x4_t v = B::load(p);
    return B::max(B::max(v.val[0], v.val[1]), B::max(v.val[2], v.val[3]));
  }

  /// First element of the first quad that holds the row's maximum (a multiple of 4).
  std::size_t first_quad(const T* p) const {
    if constexpr (kWindow == Window::half) {
      const uint8x8x4_t v = B::load8(p);
      uint8x8_t quads = B::max8(B::max8(v.val[0], v.val[1]), B::max8(v.val[2], v.val[3]));
      quads = vbsl_u8(vget_low_u8(keep), quads, vget_low_u8(B::lowest()));
      const uint8x8_t eq = vceq_u8(quads, B::splat_max8(quads));
      return ctz(vget_lane_u64(vreinterpret_u64_u8(eq), 0)) / 2;  // 8 bits a quad of 4
    } else if constexpr (kWindow == Window::two) {
      const uint8x16_t a = quad_max(p), b = quad_max(p + n - 64);
      const uint8x16_t m = B::splat_max(B::max(a, b));
      const std::uint64_t head = nibble_mask(vceqq_u8(a, m));
      const std::uint64_t tail = nibble_mask(vceqq_u8(b, m));
      return head != 0 ? ctz(head) : n - 64 + ctz(tail);
    } else {
      uint8x16_t quads = quad_max(p);
      if constexpr (kWindow == Window::past_end) quads = vbslq_u8(keep, quads, B::lowest());
      return ctz(nibble_mask(vceqq_u8(quads, B::splat_max(quads))));
    }
  }
};

/// Rows of exactly 48 bytes (the 192 px model) as 16 triples: LD3 puts element 3n + k in lane n
/// of register k, so two max instructions give the 16 triple maxima in order. Each becomes a
/// 16-bit key (triple maximum << 8) | (255 - 3n); the largest key holds the row's maximum in its
/// high byte and, of the triples holding it, the first one's 255 - 3n in its low byte (a larger
/// low byte is an earlier triple). Keys of several rows reduce together (pairwise_max16), where a
/// reduction per row (SMAXV) would cost as much and leave each key in its own register.
template <class B>
struct Triples48 {
  using T = typename B::T;
  static constexpr std::size_t kLen = 48;
  static constexpr std::size_t kPastEnd = 0;  ///< the row's own loads stay inside it
  uint8x16_t low;                              ///< lane n: 255 - 3n

  Triples48() {
    static const std::uint8_t kLow[16] = {255, 252, 249, 246, 243, 240, 237, 234,
                                          231, 228, 225, 222, 219, 216, 213, 210};
    low = vld1q_u8(kLow);
  }
  std::size_t len() const { return kLen; }

  /// Lane j: the larger key of triples j and j + 8; the row's key is the largest lane.
  uint16x8_t keys(const T* p) const {
    const uint8x16x3_t v = vld3q_u8(reinterpret_cast<const std::uint8_t*>(p));
    const uint8x16_t t = B::max(B::max(v.val[0], v.val[1]), v.val[2]);
    return B::max16(vreinterpretq_u16_u8(vzip1q_u8(low, t)),
                    vreinterpretq_u16_u8(vzip2q_u8(low, t)));
  }
  /// The keys of 8 rows (keys() each): lane r is row r's key.
  static uint16x8_t reduce8(const uint16x8_t* k) {
    const uint16x8_t a = B::pairwise_max16(B::pairwise_max16(k[0], k[1]),
                                           B::pairwise_max16(k[2], k[3]));
    const uint16x8_t b = B::pairwise_max16(B::pairwise_max16(k[4], k[5]),
                                           B::pairwise_max16(k[6], k[7]));
    return B::pairwise_max16(a, b);
  }
};

/// First index of the maximum of 64 bytes: the first element of its quad equal to the quad's max.
template <class B>
inline std::size_t first_max_bytes(const typename B::T* p) {
  const std::size_t quad = ByteRows<B, Window::whole>(64).first_quad(p);
  typename B::T m = p[quad];
  for (std::size_t k = 1; k < 4; ++k) m = p[quad + k] > m ? p[quad + k] : m;
  std::size_t i = quad;
  while (p[i] != m) ++i;
  return i;
}

/// Four compare results (quads of 4 groups, 32-bit lanes) narrowed to one byte lane per quad, in
/// order; `groups` of them are real, the rest read as not equal.
template <std::size_t kGroups>
inline uint8x16_t narrow_eq(const float32x4_t* quads, float32x4_t m) {
  uint32x4_t eq[4];
  for (std::size_t g = 0; g < 4; ++g) eq[g] = g < kGroups ? vceqq_f32(quads[g], m) : vdupq_n_u32(0);
  const uint16x8_t lo = vuzp1q_u16(vreinterpretq_u16_u32(eq[0]), vreinterpretq_u16_u32(eq[1]));
  const uint16x8_t hi = vuzp1q_u16(vreinterpretq_u16_u32(eq[2]), vreinterpretq_u16_u32(eq[3]));
  return vuzp1q_u8(vreinterpretq_u8_u16(lo), vreinterpretq_u8_u16(hi));
}

/// The quad maxima of kGroups groups of 16 floats from p: quads[g] lane l is the maximum of
/// elements 16g + 4l .. 16g + 4l + 3.
template <std::size_t kGroups>
inline void quad_maxima(const float* p, float32x4_t* quads) {
  for (std::size_t g = 0; g < kGroups; ++g) {
    const float32x4x4_t v = vld4q_f32(p + 16 * g);
    quads[g] = vmaxq_f32(vmaxq_f32(v.val[0], v.val[1]), vmaxq_f32(v.val[2], v.val[3]));
  }
}

/// The largest lane of kGroups registers, in every lane.
template <std::size_t kGroups>
inline float32x4_t splat_max(const float32x4_t* quads) {
  float32x4_t m = quads[0];
  for (std::size_t g = 1; g < kGroups; ++g) m = vmaxq_f32(m, quads[g]);
  return vdupq_n_f32(vmaxvq_f32(m));
}

/// Rows of n floats, 16 <= n <= 128 and a multiple of 4, as kGroups groups of 16 (n <= 64: the
/// last reaching past the end unless 16 divides n) or, for Window::two, two windows of 64.
template <std::size_t kGroups, Window kWindow>
struct FloatRows {
  static_assert(kWindow == Window::two ? kGroups == 4 : kGroups >= 1 && kGroups <= 4,
                "groups of 16 floats per window");
  static constexpr std::size_t kLen = kWindow == Window::whole ? 16 * kGroups : 0;  ///< n, where
                                                                                   ///< fixed
  /// Elements the loads may read past a row's end (at most 12).
  static constexpr std::size_t kPastEnd = kWindow == Window::past_end ? 12 : 0;
  std::size_t n;
  uint32x4_t keep;  ///< past_end: the last group's quads inside the row
  std::uint64_t nan_bit;  ///< n <= 64: the last quad's bit, which stands in when nothing equals
                          ///< M (NaN), so the index is then n - 1

  /// n, as a constant where the shape fixes it
  std::size_t len() const { return kLen != 0 ? kLen : n; }

  explicit FloatRows(std::size_t len)
      : n(len), keep(), nan_bit(1ull << (len - 4) % 64) {
    if constexpr (kWindow == Window::past_end) {
      static const std::uint32_t kLane[4] = {0, 1, 2, 3};
      const std::size_t inside = len / 4 - 4 * (kGroups - 1);  // quads of the last group
      keep = vcltq_u32(vld1q_u32(kLane), vdupq_n_u32(static_cast<std::uint32_t>(inside)));
    }
  }

  /// First index of the row's maximum, and the maximum in *max (NaN when the row holds NaN;
  /// the index is then n - 1 and means nothing).
  std::size_t first_max(const float* p, float* max) const {
    std::size_t quad;  // first element of the first quad holding M
    float32x4_t m;
    if constexpr (kWindow == Window::two) {
      float32x4_t head[4], tail[4], both[8];
      quad_maxima<4>(p, head);
      quad_maxima<4>(p + n - 64, tail);
      for (std::size_t g = 0; g < 4; ++g) both[g] = head[g], both[4 + g] = tail[g];
      m = splat_max<8>(both);
      const std::uint64_t h = nibble_mask(narrow_eq<4>(head, m));
      const std::uint64_t t = nibble_mask(narrow_eq<4>(tail, m)) | 1ull << 60;  // NaN: n - 1
      quad = h != 0 ? ctz(h) : n - 64 + ctz(t);
    } else {
      float32x4_t quads[kGroups];
      quad_maxima<kGroups>(p, quads);
      if constexpr (kWindow == Window::past_end) {
        const float32x4_t lowest = vdupq_n_f32(-std::numeric_limits<float>::infinity());
        quads[kGroups - 1] = vbslq_f32(keep, quads[kGroups - 1], lowest);
      }
      m = splat_max<kGroups>(quads);
      quad = ctz(nibble_mask(narrow_eq<kGroups>(quads, m)) |
                 (kLen != 0 ? 1ull << (kLen - 4) : nan_bit));
    }
    *max = vgetq_lane_f32(m, 0);
    const uint16x4_t lanes = vmovn_u32(vceqq_f32(vld1q_f32(p + quad), m));
    return quad + ctz(vget_lane_u64(vreinterpret_u64_u16(lanes), 0) | 1ull << 48) / 16;
  }
};

}  // namespace neon_rows
}  // namespace detail
}  // namespace gv
