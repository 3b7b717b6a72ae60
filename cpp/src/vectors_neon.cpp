// The NEON face decoder (aarch64): GV vectors whose length is a multiple of 4 from 16 to 128 (64
// in every shipped model, 48 at 192 px input), x and y alike, with the quarter-pixel rule, in
// about one instruction per element.
//
// Landmarks go in blocks of 8 (then one of 4): the x and y rows of 8 landmarks fill the 16 byte
// lanes of a register, in the order of the output (x0, y0, x1, y1, ...). Per row the only work
// is the argmax (rows_neon.hpp, in the row shape of the batch's length, chosen once per call;
// for bytes only its first level, the first quad of four elements holding the maximum) and one
// load of the elements around the peak into a small buffer. The rest runs on the whole block at
// once in vector registers: for bytes the first maximum inside its quad; then the sign of the
// neighbours' difference, 4i + sign as fixed point with two fractional bits (the quarter shift,
// exactly), the score as the smaller peak. Rows of 48 (the 192 px model) have shapes of their
// own (Triples48, Floats48) that also share the rows' reductions: 8 byte rows' keys, 4 float
// rows' maxima and first quads, reduced pairwise together.
// A peak on an end element, or a float row holding NaN, is "rare": after the block's stores such
// landmarks are decoded again one by one by the general code, with every rule of
// docs/decoding.md. Results are bit-identical to the scalar path (cpp/tests compare every path;
// test_faces.cpp aims at this decoder). Instruction counts: docs/native.md.
#include "kernels.hpp"

#ifdef GV_HAVE_NEON_KERNELS

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "rows_neon.hpp"
#include "rules.hpp"

namespace gv {
namespace detail {
namespace {

using neon_rows::Window;

constexpr std::size_t kMaxLen = 128;  // the longest vectors on this path

// One landmark of vectors of n, both axes, by the general code (scalar argmax, then every rule).
template <class T, class Real>
[[gnu::noinline, gnu::cold]] void decode_one(const T* x, const T* y, std::size_t n,
                                             const VectorParams& params, Real real, float* coord,
                                             float* score) {
  const VectorRules rules(params);
  const RowsArgmax<T> argmax = scalar_kernels()->of<T>().argmax;
  std::size_t ix = 0, iy = 0;
  argmax(x, 1, n, n, &ix);
  argmax(y, 1, n, n, &iy);
  float px = 0, py = 0;
  coord[0] = rules.locate<false>(x, n, ix, real, &px);
  coord[1] = rules.locate<false>(y, n, iy, real, &py);
  *score = nan_min(px, py);
}

// Landmarks of a block whose x (lane 2k) or y (lane 2k + 1) peak is an end element, or a NaN
// float row (n - 1), decoded again by decode_one.
template <std::size_t kL, class T, class Real>
[[gnu::noinline, gnu::cold]] void redo_rare(uint8x16_t index, std::size_t n, const T* x,
                                            std::size_t xs, const T* y, std::size_t ys,
                                            const VectorParams& params, Real real, float* coords,
                                            float* scores) {
  alignas(16) std::uint8_t idx[16];
  vst1q_u8(idx, index);
  const auto end = [n](std::size_t i) { return i == 0 || i + 1 >= n; };
  for (std::size_t k = 0; k < kL; ++k)
    if (end(idx[2 * k]) || end(idx[2 * k + 1]))
      decode_one(x + k * xs, y + k * ys, n, params, real, coords + 2 * k, scores + k);
}

/// Is a peak index in `idx` 0 or n - 1 (an end element)?
inline bool any_rare(uint8x16_t idx, std::size_t n) {
  return vmaxvq_u8(vsubq_u8(idx, vdupq_n_u8(1))) >= n - 2;  // 0 wraps to 255
}

/// Byte lanes first..first+3 of `v` (first a multiple of 4) zero-extended to 32-bit lanes.
inline uint32x4_t widen4(uint8x16_t v, std::size_t first) {
  static const std::uint8_t kPick[4][16] = {
      {0, 255, 255, 255, 1, 255, 255, 255, 2, 255, 255, 255, 3, 255, 255, 255},
      {4, 255, 255, 255, 5, 255, 255, 255, 6, 255, 255, 255, 7, 255, 255, 255},
      {8, 255, 255, 255, 9, 255, 255, 255, 10, 255, 255, 255, 11, 255, 255, 255},
      {12, 255, 255, 255, 13, 255, 255, 255, 14, 255, 255, 255, 15, 255, 255, 255}};
  return vreinterpretq_u32_u8(vqtbl1q_u8(v, vld1q_u8(kPick[first / 4])));  // 255 gives 0
}

/// (4i + sign) / 4 for the 4 landmarks from byte lane `first` of `at`: exactly the quarter shift
/// float(4i + sign) * 0.25, read as fixed point with two fractional bits.
inline float32x4_t quarter(uint8x16_t at, std::size_t first) {
  return vcvtq_n_f32_u32(widen4(at, first), 2);
}

/// Where a block's rows read the elements around their peak from. Middle rows read their own
/// row; the first landmark's rows and the last's (which may touch the ends of the input) read
/// padded copies, set up once per batch; the last landmark's rows are searched in the copies
/// too, since a row shorter than its loads (rows_neon.hpp, Window::past_end) reads past its end.
template <class T>
struct Around {
  const T* x_first;
  const T* y_first;
  const T* x_last;
  const T* y_last;

  /// Landmark k of a block of kL, whose rows start at x and y: where each row is searched and
  /// where the elements around its peak are read.
  struct Landmark {
    const T* x;
    const T* x_around;
    const T* y;
    const T* y_around;
  };
  template <std::size_t kL>
  Landmark of(std::size_t k, const T* x, const T* y) const {
    if (k + 1 == kL) x = x_last, y = y_last;  // the last landmark: maybe a copy
    return {x, k == 0 ? x_first : x, y, k == 0 ? y_first : y};
  }
};

/// Rows: the shape (rows_neon.hpp), which may fix the length (a copy of a known size is a few
/// loads and stores) and read past a row's end.
template <class T, class Rows>
class EdgeCopies {
 public:
  static constexpr std::size_t kBefore = 8;  // loads around a peak reach one element before
  // and at most 7 past the end; the row's own loads Rows::kPastEnd
  static constexpr std::size_t kAfter = Rows::kPastEnd > 8 ? Rows::kPastEnd : 8;
  explicit EdgeCopies(const VectorBatch<T>& b) {
    const std::size_t last = b.count - 1;
    const T* from[4] = {b.x, b.y, b.x + last * b.x_stride, b.y + last * b.y_stride};
    for (std::size_t r = 0; r < 4; ++r) {
      std::memset(rows_[r], 0, sizeof(T) * kBefore);
      const std::size_t n = Rows::kLen != 0 ? Rows::kLen : b.w;
      std::memcpy(rows_[r] + kBefore, from[r], sizeof(T) * n);
      std::memset(rows_[r] + kBefore + n, 0, sizeof(T) * kAfter);
    }
  }
  /// The block of kL landmarks from landmark k: copies for the batch's first and last rows.
  template <std::size_t kL>
  Around<T> around(const VectorBatch<T>& b, std::size_t k) const {
    const T* x = b.x + k * b.x_stride;
    const T* y = b.y + k * b.y_stride;
    const bool first = k == 0, last = k + kL == b.count;
    return {first ? rows_[0] + kBefore : x, first ? rows_[1] + kBefore : y,
            last ? rows_[2] + kBefore : x + (kL - 1) * b.x_stride,
            last ? rows_[3] + kBefore : y + (kL - 1) * b.y_stride};
  }

 private:
  alignas(16) T rows_[4][kBefore + kMaxLen + kAfter];
};

// ---- int8 / uint8 ----

/// One row: its first quad holding the maximum, g, and the 8 bytes from around[g - 1] (its
/// elements g-1 .. g+6), with g in place of the last one.
template <class Rows>
[[gnu::always_inline]] inline std::uint64_t byte_row(const Rows& rows, const typename Rows::T* row,
                                                     const typename Rows::T* around) {
  const std::size_t g = rows.first_quad(row);
  std::uint64_t w;
  std::memcpy(&w, around - 1 + g, 8);
  return (w & 0x00FFFFFFFFFFFFFFu) | static_cast<std::uint64_t>(g) << 56;
}

template <class B>
struct ByteConsts {
  using T = typename B::T;
  uint8x16_t one = vdupq_n_u8(1), three = vdupq_n_u8(3), four = vdupq_n_u8(4);
  uint8x16_t c254 = vdupq_n_u8(254);
  uint8x8_t zero_point;
  float32x4_t scale;
  RealQuant<T> real;
  explicit ByteConsts(const Quant& q)
      : zero_point(vdup_n_u8(static_cast<std::uint8_t>(q.zero_point))),
        scale(vdupq_n_f32(q.scale)),
        real{q.scale, q.zero_point} {}
  /// q - zero_point for the 8 low lanes, exactly (|q - zero_point| <= 255).
  int16x8_t minus_zero_point(uint8x16_t q) const;
  /// float32(q - zero_point) * scale for the 8 low lanes, as RealQuant does.
  float32x4x2_t dequantise(uint8x16_t q) const {
    const int16x8_t d = minus_zero_point(q);
    return {{vmulq_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(d))), scale),
             vmulq_f32(vcvtq_f32_s32(vmovl_high_s16(d)), scale)}};
  }
};
template <>
inline int16x8_t ByteConsts<neon_rows::S8>::minus_zero_point(uint8x16_t q) const {
  return vsubl_s8(vget_low_s8(vreinterpretq_s8_u8(q)), vreinterpret_s8_u8(zero_point));
}
template <>
inline int16x8_t ByteConsts<neon_rows::U8>::minus_zero_point(uint8x16_t q) const {
  // Modulo 2^16, read back as signed: exact for |q - zero_point| <= 255.
  return vreinterpretq_s16_u16(vsubl_u8(vget_low_u8(q), zero_point));
}

/// (4i + sign) / 4 for the 4 landmarks from byte lane `first` of index and sign, in 32-bit
/// lanes: rows over 64 elements, whose 4i + sign does not fit a byte.
inline float32x4_t quarter_wide(uint8x16_t index, uint8x16_t sign, std::size_t first) {
  const int32x4_t four_i = vshlq_n_s32(vreinterpretq_s32_u32(widen4(index, first)), 2);
  const int32x4_t s = vshrq_n_s32(vshlq_n_s32(vreinterpretq_s32_u32(widen4(sign, first)), 24), 24);
  return vcvtq_n_f32_s32(vaddq_s32(four_i, s), 2);
}

/// A byte block's scores, and its rare landmarks decoded again (after the coordinates' stores).
/// The score is the smaller real peak of each pair of lanes; dequantising is increasing, so take
/// the smaller integer and dequantise once.
template <std::size_t kL, class B>
inline void byte_scores(const ByteConsts<B>& c, uint8x16_t peak, uint8x16_t index, std::size_t n,
                        const typename B::T* x, std::size_t xs, const typename B::T* y,
                        std::size_t ys, const VectorParams& params, float* coords,
                        float* scores) {
  const float32x4x2_t s = c.dequantise(B::pairwise_min(peak));
  vst1q_f32(scores, s.val[0]);
  if (kL == 8) vst1q_f32(scores + 4, s.val[1]);
  if (any_rare(index, n)) redo_rare<kL>(index, n, x, xs, y, ys, params, c.real, coords, scores);
}

/// kL landmarks (8 or 4) from rows x, y (strides xs, ys), of the shape `rows`.
template <class B, std::size_t kL, class Rows>
void byte_block(const typename B::T* x, std::size_t xs, const typename B::T* y, std::size_t ys,
                const Around<typename B::T>& around, const Rows& rows, const ByteConsts<B>& c,
                const VectorParams& params, float* coords, float* scores) {
  using T = typename B::T;
  // words[2k]: landmark k's x row, words[2k + 1] its y row. In a block of 4 the unused words
  // read as a peak at 4 (interior), so they are never rare.
  alignas(16) std::uint64_t words[16];
  if (kL < 8)
    for (std::size_t k = 2 * kL; k < 16; ++k) words[k] = 4ull << 56;
  const T* px = x;
  const T* py = y;
#pragma GCC unroll 8
  for (std::size_t k = 0; k < kL; ++k, px += xs, py += ys) {
    const auto r = around.template of<kL>(k, px, py);
    words[2 * k] = byte_row(rows, r.x, r.x_around);
    words[2 * k + 1] = byte_row(rows, r.y, r.y_around);
  }
  // Byte j of every word as one register, lane r = word r: the quad's left neighbour (b[0]),
  // its four elements (b[1..4]), its right neighbour (b[5]) and g.
  const auto w = reinterpret_cast<const std::uint16_t*>(words);
  const uint16x8x4_t lo = vld4q_u16(w), hi = vld4q_u16(w + 32);
  uint8x16_t b[6];
  for (int h = 0; h < 3; ++h) {
    b[2 * h] = vuzp1q_u8(vreinterpretq_u8_u16(lo.val[h]), vreinterpretq_u8_u16(hi.val[h]));
    b[2 * h + 1] = vuzp2q_u8(vreinterpretq_u8_u16(lo.val[h]), vreinterpretq_u8_u16(hi.val[h]));
  }
  const uint8x16_t g = vuzp2q_u8(vreinterpretq_u8_u16(lo.val[3]), vreinterpretq_u8_u16(hi.val[3]));
  const uint8x16_t peak = B::max(B::max(b[1], b[2]), B::max(b[3], b[4]));
  // The first of the quad's elements equal to its maximum: e[k] marks element k = 0, 1, 2.
  const uint8x16_t e0 = vceqq_u8(b[1], peak), e1 = vceqq_u8(b[2], peak), e2 = vceqq_u8(b[3], peak);
  const uint8x16_t e01 = vorrq_u8(e0, e1);
  // offset in the quad: 3, less one for each of "e0|e1|e2", "e0|e1", "e0" (a mask reads -1)
  const uint8x16_t at_quad = vaddq_u8(vaddq_u8(vorrq_u8(e01, e2), e01), e0);
  const uint8x16_t index = vaddq_u8(vaddq_u8(g, c.three), at_quad);
  const uint8x16_t left = vbslq_u8(e0, b[0], vbslq_u8(e1, b[1], vbslq_u8(e2, b[2], b[3])));
  const uint8x16_t right = vbslq_u8(e0, b[2], vbslq_u8(e1, b[3], vbslq_u8(e2, b[4], b[5])));
  const uint8x16_t sign = vsubq_u8(B::gt(left, right), B::gt(right, left));
  if constexpr (Rows::kWide) {
#pragma GCC unroll 4
    for (std::size_t q = 0; q < kL / 2; ++q)
      vst1q_f32(coords + 4 * q, quarter_wide(index, sign, 4 * q));
  } else {
    const uint8x16_t at = vmlaq_u8(sign, index, c.four);  // 4i + sign: 3..253 when interior
#pragma GCC unroll 4
    for (std::size_t q = 0; q < kL / 2; ++q) vst1q_f32(coords + 4 * q, quarter(at, 4 * q));
  }
  byte_scores<kL>(c, peak, index, rows.len(), x, xs, y, ys, params, coords, scores);
}

/// kL landmarks (8 or 4) of rows of 48 bytes (Triples48): per row its keys, per 8 rows one
/// reduction of the keys and per row one load of the 8 bytes around its first triple holding the
/// maximum; the rest, as in byte_block, for the whole block.
template <class B, std::size_t kL>
void byte_block48(const typename B::T* x, std::size_t xs, const typename B::T* y, std::size_t ys,
                  const Around<typename B::T>& around, const neon_rows::Triples48<B>& rows,
                  const ByteConsts<B>& c, const VectorParams& params, float* coords,
                  float* scores) {
  using T = typename B::T;
  // words[2k]: landmark k's x row, words[2k + 1] its y row: its elements 3n - 1 .. 3n + 6.
  // keys[h] lane r: row 8h + r's key. In a block of 4 the unused rows read as a maximum of 0
  // in triple 4 whose elements are all 0: index 12, interior, so never rare.
  alignas(16) std::uint64_t words[16];
  uint16x8_t keys[2];
  if (kL < 8) {
    for (std::size_t k = 8; k < 16; ++k) words[k] = 0;
    keys[1] = vdupq_n_u16(255 - 3 * 4);
  }
  const T* px = x;
  const T* py = y;
#pragma GCC unroll 2
  for (std::size_t h = 0; h < kL / 4; ++h) {
    uint16x8_t k8[8];
    const T* at[8];
#pragma GCC unroll 4
    for (std::size_t j = 0; j < 4; ++j, px += xs, py += ys) {
      const auto r = around.template of<kL>(4 * h + j, px, py);
      k8[2 * j] = rows.keys(r.x);
      k8[2 * j + 1] = rows.keys(r.y);
      at[2 * j] = r.x_around;
      at[2 * j + 1] = r.y_around;
    }
    keys[h] = neon_rows::Triples48<B>::reduce8(k8);
    // Byte 2r: 254 - (255 - 3n) = 3n - 1, where row r's 8 bytes start (-1 for n = 0, as int8).
    alignas(16) std::int8_t start[16];
    vst1q_s8(start, vreinterpretq_s8_u8(vsubq_u8(c.c254, vreinterpretq_u8_u16(keys[h]))));
#pragma GCC unroll 8
    for (std::size_t r = 0; r < 8; ++r) std::memcpy(&words[8 * h + r], at[r] + start[2 * r], 8);
  }
  // Byte j of every word as one register, lane r = word r: the triple's left neighbour (b[0]),
  // its three elements (b[1..3]) and its right neighbour (b[4]).
  const auto w = reinterpret_cast<const std::uint16_t*>(words);
  const uint16x8x4_t lo = vld4q_u16(w), hi = vld4q_u16(w + 32);
  uint8x16_t b[5];
  for (int h = 0; h < 3; ++h) {
    b[2 * h] = vuzp1q_u8(vreinterpretq_u8_u16(lo.val[h]), vreinterpretq_u8_u16(hi.val[h]));
    if (h < 2)
      b[2 * h + 1] = vuzp2q_u8(vreinterpretq_u8_u16(lo.val[h]), vreinterpretq_u8_u16(hi.val[h]));
  }
  // The keys' high bytes are the rows' maxima, their low bytes 255 - 3n.
  const uint8x16_t peak = vuzp2q_u8(vreinterpretq_u8_u16(keys[0]), vreinterpretq_u8_u16(keys[1]));
  const uint8x16_t low = vuzp1q_u8(vreinterpretq_u8_u16(keys[0]), vreinterpretq_u8_u16(keys[1]));
  // The first of the triple's elements equal to the maximum: e[k] marks element k = 0, 1.
  const uint8x16_t e0 = vceqq_u8(b[1], peak), e1 = vceqq_u8(b[2], peak);
  const uint8x16_t e01 = vorrq_u8(e0, e1);
  // 3n + 2, less one for each of "e0|e1" and "e0" (a mask reads -1): 1 - low + e01 + e0
  const uint8x16_t index = vaddq_u8(vaddq_u8(vsubq_u8(c.one, low), e01), e0);
  const uint8x16_t left = vbslq_u8(e0, b[0], vbslq_u8(e1, b[1], b[2]));
  const uint8x16_t right = vbslq_u8(e0, b[2], vbslq_u8(e1, b[3], b[4]));
  const uint8x16_t sign = vsubq_u8(B::gt(left, right), B::gt(right, left));
  const uint8x16_t at4 = vmlaq_u8(sign, index, c.four);  // 4i + sign: 3..189 when interior
#pragma GCC unroll 4
  for (std::size_t q = 0; q < kL / 2; ++q) vst1q_f32(coords + 4 * q, quarter(at4, 4 * q));
  byte_scores<kL>(c, peak, index, rows.len(), x, xs, y, ys, params, coords, scores);
}

// ---- float32 ----

/// One row: its peak index (n - 1 when the row holds NaN), and around[i-1 .. i+2] into slot.
template <class Rows>
[[gnu::always_inline]] inline std::uint8_t float_row(const Rows& rows, const float* row,
                                                     const float* around, float* slot) {
  float max;
  const std::size_t i = rows.first_max(row, &max);
  vst1q_f32(slot, vld1q_f32(around - 1 + i));
  return static_cast<std::uint8_t>(i);
}

template <std::size_t kL, class Rows>
void float_block(const float* x, std::size_t xs, const float* y, std::size_t ys,
                 const Around<float>& around, const Rows& rows, const VectorParams& params,
                 float* coords, float* scores) {
  // slot 2k: landmark k's x row, slot 2k + 1 its y row; idx likewise (unused ones interior).
  alignas(16) float slots[16][4];
  alignas(16) std::uint8_t idx[16];
  if (kL < 8) std::memset(idx + 2 * kL, 1, 16 - 2 * kL);
  const float* px = x;
  const float* py = y;
#pragma GCC unroll 8
  for (std::size_t k = 0; k < kL; ++k, px += xs, py += ys) {
    const auto r = around.template of<kL>(k, px, py);
    idx[2 * k] = float_row(rows, r.x, r.x_around, slots[2 * k]);
    idx[2 * k + 1] = float_row(rows, r.y, r.y_around, slots[2 * k + 1]);
  }
  const uint8x16_t index = vld1q_u8(idx);
  // Two landmarks (x, y, x, y) at a time: their coordinates, and their peaks.
  float32x4_t peak[kL / 2];
#pragma GCC unroll 4
  for (std::size_t q = 0; q < kL / 2; ++q) {
    const float32x4x4_t v = vld4q_f32(slots[4 * q]);  // val[0]: left, [1]: peak, [2]: right
    const int32x4_t sign = vsubq_s32(vreinterpretq_s32_u32(vcgtq_f32(v.val[0], v.val[2])),
                                     vreinterpretq_s32_u32(vcgtq_f32(v.val[2], v.val[0])));
    const int32x4_t four_i = vshlq_n_s32(vreinterpretq_s32_u32(widen4(index, 4 * q)), 2);
    vst1q_f32(coords + 4 * q, vcvtq_n_f32_s32(vaddq_s32(four_i, sign), 2));  // (4i + sign) / 4
    peak[q] = v.val[1];
  }
  // nan_min(px, py) of two peaks that are not NaN (NaN rows are rare): py < px ? py : px.
#pragma GCC unroll 2
  for (std::size_t q = 0; q < kL / 2; q += 2) {
    const float32x4_t px4 = vuzp1q_f32(peak[q], peak[q + 1]);
    const float32x4_t py4 = vuzp2q_f32(peak[q], peak[q + 1]);
    vst1q_f32(scores + 2 * q, vbslq_f32(vcgtq_f32(px4, py4), py4, px4));
  }
  if (any_rare(index, rows.len()))
    redo_rare<kL>(index, rows.len(), x, xs, y, ys, params, RealFloat{}, coords, scores);
}

/// Rows of exactly 48 floats (the 192 px model), four at a time (two landmarks: x, y, x, y). A
/// row is three LD4 groups of 16, 12 quad maxima (rows_neon.hpp); the four rows' maxima come
/// from one pairwise reduction, and each row's first quad holding its maximum as the largest of
/// the weights 16 - q of the quads q equal to it, again reduced pairwise for the four rows
/// (where the 64 shape narrows a mask and counts zeros, row by row). The six elements around each
/// quad are loaded into lane r of six registers, and the search inside the quad, the shift and
/// the scores run on the four rows at once.
struct Floats48 {
  static constexpr std::size_t kLen = 48;
  /// The loads around a peak read up to element 54 (at most 6 past the end); a row holding NaN,
  /// up to 70 (quad 16: its eight elements from 63).
  static constexpr std::size_t kPastEnd = 23;
  uint32x4_t weight[3];  ///< lane l of weight[g]: 16 - (4g + l)
  Floats48() {
    static const std::uint32_t kWeight[12] = {16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5};
    for (std::size_t g = 0; g < 3; ++g) weight[g] = vld1q_u32(kWeight + 4 * g);
  }
  std::size_t len() const { return kLen; }

  /// Lane l: the largest weight of the quads l, 4 + l, 8 + l that equal m (0 if none).
  uint32x4_t first_weight(const float32x4_t* quads, float32x4_t m) const {
    const uint32x4_t a = vandq_u32(vceqq_f32(quads[0], m), weight[0]);
    const uint32x4_t b = vandq_u32(vceqq_f32(quads[1], m), weight[1]);
    const uint32x4_t c = vandq_u32(vceqq_f32(quads[2], m), weight[2]);
    return vmaxq_u32(vmaxq_u32(a, b), c);
  }
};

/// Six elements from each of four rows, at[r][0 .. 5], as six registers: lane r of lo[k] holds
/// at[r][k], of hi[k] at[r][4 + k]. One load of 8 elements a row (at[r][6, 7] unused) and a
/// transposition (structure loads into lanes would need none, but GCC keeps their register tuples
/// on the stack).
inline void gather6(const float* const* at, float32x4_t* lo, float32x4_t* hi) {
  const auto f64 = [](float32x4_t v) { return vreinterpretq_f64_f32(v); };
  const auto f32 = [](float64x2_t v) { return vreinterpretq_f32_f64(v); };
  float32x4_t a[4], b[4];
  for (int r = 0; r < 4; ++r) a[r] = vld1q_f32(at[r]), b[r] = vld1q_f32(at[r] + 4);
  const float32x4_t t0 = vtrn1q_f32(a[0], a[1]), t1 = vtrn2q_f32(a[0], a[1]);
  const float32x4_t t2 = vtrn1q_f32(a[2], a[3]), t3 = vtrn2q_f32(a[2], a[3]);
  lo[0] = f32(vzip1q_f64(f64(t0), f64(t2)));
  lo[1] = f32(vzip1q_f64(f64(t1), f64(t3)));
  lo[2] = f32(vzip2q_f64(f64(t0), f64(t2)));
  lo[3] = f32(vzip2q_f64(f64(t1), f64(t3)));
  const float32x4_t b01 = f32(vzip1q_f64(f64(b[0]), f64(b[1])));
  const float32x4_t b23 = f32(vzip1q_f64(f64(b[2]), f64(b[3])));
  hi[0] = vuzp1q_f32(b01, b23);
  hi[1] = vuzp2q_f32(b01, b23);
}

template <std::size_t kL>
void float_block48(const float* x, std::size_t xs, const float* y, std::size_t ys,
                   const Around<float>& around, const Floats48& rows, const VectorParams& params,
                   float* coords, float* scores) {
  constexpr std::size_t kGroups = kL / 2;  // of four rows
  float32x4_t peak[kGroups];
  int32x4_t index[kGroups];
  uint32x4_t worst = vdupq_n_u32(0);  // the largest index - 1 (0 wraps to the largest)
  const float* px = x;
  const float* py = y;
#pragma GCC unroll 4
  for (std::size_t g = 0; g < kGroups; ++g) {
    const float* row[4];
    const float* at[4];
#pragma GCC unroll 2
    for (std::size_t j = 0; j < 2; ++j, px += xs, py += ys) {
      const auto r = around.template of<kL>(2 * g + j, px, py);
      row[2 * j] = r.x, row[2 * j + 1] = r.y;
      at[2 * j] = r.x_around, at[2 * j + 1] = r.y_around;
    }
    float32x4_t quads[4][3], top[4];
#pragma GCC unroll 4
    for (std::size_t r = 0; r < 4; ++r) {
      neon_rows::quad_maxima<3>(row[r], quads[r]);
      top[r] = vmaxq_f32(vmaxq_f32(quads[r][0], quads[r][1]), quads[r][2]);
    }
    // Lane r: row r's maximum (NaN when it holds NaN: FMAXP keeps it).
    const float32x4_t m = vpmaxq_f32(vpmaxq_f32(top[0], top[1]), vpmaxq_f32(top[2], top[3]));
    const uint32x4_t w0 = rows.first_weight(quads[0], vdupq_laneq_f32(m, 0));
    const uint32x4_t w1 = rows.first_weight(quads[1], vdupq_laneq_f32(m, 1));
    const uint32x4_t w2 = rows.first_weight(quads[2], vdupq_laneq_f32(m, 2));
    const uint32x4_t w3 = rows.first_weight(quads[3], vdupq_laneq_f32(m, 3));
    // Lane r: 16 - row r's first quad q holding the maximum; 0 when none does (NaN), which
    // reads as quad 16, past the end, and index 67 below: rare.
    const uint32x4_t w = vpmaxq_u32(vpmaxq_u32(w0, w1), vpmaxq_u32(w2, w3));
    // 4q + 3 = 67 - 4w. The elements from 4q - 1, 4 (252 - 16w) bytes on (the edge copies
    // cover 4q - 1 = -1 and, for NaN, 63 .. 70: kPastEnd).
    const int32x4_t last = vreinterpretq_s32_u32(vmlsq_u32(vdupq_n_u32(67), w, vdupq_n_u32(4)));
    alignas(16) std::int32_t start[4];
    vst1q_s32(start, vreinterpretq_s32_u32(vmlsq_u32(vdupq_n_u32(252), w, vdupq_n_u32(16))));
    for (int r = 0; r < 4; ++r)
      at[r] = reinterpret_cast<const float*>(reinterpret_cast<const char*>(at[r]) + start[r]);
    float32x4_t lo[4], hi[2];
    gather6(at, lo, hi);
    // The first of the quad's elements equal to the maximum: e0, e1, e2 mark elements 0, 1, 2
    // (lo[1..3]); none: element 3 (hi[0]).
    const uint32x4_t e0 = vceqq_f32(lo[1], m), e1 = vceqq_f32(lo[2], m),
                     e2 = vceqq_f32(lo[3], m);
    const float32x4_t left =
        vbslq_f32(e0, lo[0], vbslq_f32(e1, lo[1], vbslq_f32(e2, lo[2], lo[3])));
    const float32x4_t right =
        vbslq_f32(e0, lo[2], vbslq_f32(e1, lo[3], vbslq_f32(e2, hi[0], hi[1])));
    // The peak element itself, not m: the score keeps the sign of a zero.
    peak[g] =
        vbslq_f32(e0, lo[1], vbslq_f32(e1, lo[2], vbslq_f32(e2, lo[3], hi[0])));
    // 4q + 3, less one for each of "e0|e1|e2", "e0|e1", "e0" (a mask reads -1)
    const uint32x4_t e01 = vorrq_u32(e0, e1);
    const int32x4_t i = vaddq_s32(
        vaddq_s32(last, vreinterpretq_s32_u32(vaddq_u32(e0, e01))),
        vreinterpretq_s32_u32(vorrq_u32(e01, e2)));
    const int32x4_t sign = vsubq_s32(vreinterpretq_s32_u32(vcgtq_f32(left, right)),
                                     vreinterpretq_s32_u32(vcgtq_f32(right, left)));
    vst1q_f32(coords + 4 * g, vcvtq_n_f32_s32(vmlaq_s32(sign, i, vdupq_n_s32(4)), 2));
    worst = vmaxq_u32(worst, vsubq_u32(vreinterpretq_u32_s32(i), vdupq_n_u32(1)));
    index[g] = i;
  }
  // nan_min(px, py) of two peaks that are not NaN (NaN rows are rare): py < px ? py : px.
#pragma GCC unroll 2
  for (std::size_t q = 0; q < kGroups; q += 2) {
    const float32x4_t px4 = vuzp1q_f32(peak[q], peak[q + 1]);
    const float32x4_t py4 = vuzp2q_f32(peak[q], peak[q + 1]);
    vst1q_f32(scores + 2 * q, vbslq_f32(vcgtq_f32(px4, py4), py4, px4));
  }
  if (vmaxvq_u32(worst) >= rows.len() - 2) {  // an end element or NaN: index 0, 47 or 67
    alignas(16) std::int32_t all[16] = {};
    alignas(16) std::uint8_t idx[16];
    for (std::size_t g = 0; g < kGroups; ++g) vst1q_s32(all + 4 * g, index[g]);
    for (std::size_t k = 0; k < 16; ++k) idx[k] = k < 2 * kL ? static_cast<std::uint8_t>(all[k]) : 1;
    redo_rare<kL>(vld1q_u8(idx), rows.len(), x, xs, y, ys, params, RealFloat{}, coords, scores);
  }
}

// ---- the batch: blocks of 8, one of 4, the rest one by one ----

template <class Rows, class T, class Real, class Block>
void decode_batch(const VectorBatch<T>& batch, const VectorParams& params, Real real,
                  float* coords, float* scores, Block block) {
  const VectorBatch<T> b = batch;  // a local copy, kept in registers across the rare calls
  std::size_t k = 0;
  if (b.count >= 4) {
    const EdgeCopies<T, Rows> edges(b);
    for (; k + 8 <= b.count; k += 8)
      block(std::integral_constant<std::size_t, 8>{}, b, k, edges.template around<8>(b, k));
    if (k + 4 <= b.count) {
      block(std::integral_constant<std::size_t, 4>{}, b, k, edges.template around<4>(b, k));
      k += 4;
    }
  }
  for (; k < b.count; ++k)
    decode_one(b.x + k * b.x_stride, b.y + k * b.y_stride, b.w, params, real, coords + 2 * k,
               scores + k);
}

// One instance per shape, not inlined into neon_faces: the shapes' register needs would add up
// in one prologue.
template <class B, Window kWindow>
[[gnu::noinline]] void decode_bytes(const VectorBatch<typename B::T>& b, const VectorParams& params,
                  const Quant& quant, float* coords, float* scores) {
  const ByteConsts<B> c(quant);
  const neon_rows::ByteRows<B, kWindow> rows(b.w);
  decode_batch<decltype(rows)>(b, params, c.real, coords, scores,
               [&](auto lanes, const VectorBatch<typename B::T>& v, std::size_t k, const auto& a) {
                 byte_block<B, decltype(lanes)::value>(v.x + k * v.x_stride, v.x_stride,
                                                       v.y + k * v.y_stride, v.y_stride, a, rows,
                                                       c, params, coords + 2 * k, scores + k);
               });
}

/// Rows of 48 bytes (Triples48).
template <class B>
[[gnu::noinline]] void decode_bytes48(const VectorBatch<typename B::T>& b,
                                      const VectorParams& params, const Quant& quant,
                                      float* coords, float* scores) {
  const ByteConsts<B> c(quant);
  const neon_rows::Triples48<B> rows;
  // coords and scores by value: by reference, each block would load them again after a store.
  decode_batch<decltype(rows)>(b, params, c.real, coords, scores,
               [&rows, &c, &params, coords, scores](auto lanes, const VectorBatch<typename B::T>& v, std::size_t k, const auto& a) {
                 byte_block48<B, decltype(lanes)::value>(v.x + k * v.x_stride, v.x_stride,
                                                         v.y + k * v.y_stride, v.y_stride, a,
                                                         rows, c, params, coords + 2 * k,
                                                         scores + k);
               });
}

template <std::size_t kGroups, Window kWindow>
[[gnu::noinline]] void decode_floats(const VectorBatch<float>& b, const VectorParams& params, float* coords,
                   float* scores) {
  const neon_rows::FloatRows<kGroups, kWindow> rows(b.w);
  decode_batch<decltype(rows)>(b, params, RealFloat{}, coords, scores,
               [&](auto lanes, const VectorBatch<float>& v, std::size_t k, const auto& a) {
                 float_block<decltype(lanes)::value>(v.x + k * v.x_stride, v.x_stride,
                                                     v.y + k * v.y_stride, v.y_stride, a, rows,
                                                     params, coords + 2 * k, scores + k);
               });
}

/// Rows of 48 floats (Floats48).
[[gnu::noinline]] void decode_floats48(const VectorBatch<float>& b, const VectorParams& params,
                                       float* coords, float* scores) {
  const Floats48 rows;
  // coords and scores by value: by reference, each group would load them again after a store.
  decode_batch<decltype(rows)>(b, params, RealFloat{}, coords, scores,
               [&rows, &params, coords, scores](auto lanes, const VectorBatch<float>& v, std::size_t k, const auto& a) {
                 float_block48<decltype(lanes)::value>(v.x + k * v.x_stride, v.x_stride,
                                                       v.y + k * v.y_stride, v.y_stride, a, rows,
                                                       params, coords + 2 * k, scores + k);
               });
}

/// n <= 64 floats in kGroups groups of 16: the last one whole, or reaching past the end.
template <std::size_t kGroups>
void decode_groups(const VectorBatch<float>& b, const VectorParams& params, float* coords,
                   float* scores) {
  if (b.w == 16 * kGroups)
    decode_floats<kGroups, Window::whole>(b, params, coords, scores);
  else
    decode_floats<kGroups, Window::past_end>(b, params, coords, scores);
}

}  // namespace

// The whole-batch decoders of the NEON table (argmax_neon.cpp), instantiated below: vectors of
// one length n = w = h, a multiple of 4 from 16 to 128.
template <class T>
bool neon_faces(const VectorBatch<T>& b, const VectorParams& params, const Quant& quant,
                float* coords, float* scores) {
  using B = std::conditional_t<std::is_same<T, std::int8_t>::value, neon_rows::S8, neon_rows::U8>;
  if (b.w == 64 && b.h == 64) {  // the shipped models, first
    if constexpr (std::is_same<T, float>::value)
      decode_floats<4, Window::whole>(b, params, coords, scores);
    else
      decode_bytes<B, Window::whole>(b, params, quant, coords, scores);
    return true;
  }
  if (b.w != b.h || b.w % 4 != 0 || b.w < 16 || b.w > kMaxLen) return false;
  if constexpr (std::is_same<T, float>::value) {
    (void)quant;
    switch ((b.w + 15) / 16) {
      case 1:
        decode_floats<1, Window::whole>(b, params, coords, scores);
        break;
      case 2:
        decode_groups<2>(b, params, coords, scores);
        break;
      case 3:
        if (b.w == 48)  // the 192 px model
          decode_floats48(b, params, coords, scores);
        else
          decode_groups<3>(b, params, coords, scores);
        break;
      case 4:
        decode_groups<4>(b, params, coords, scores);
        break;
      default:
        decode_floats<4, Window::two>(b, params, coords, scores);
        break;
    }
  } else if (b.w < 32) {
    decode_bytes<B, Window::half>(b, params, quant, coords, scores);
  } else if (b.w == 48) {  // the 192 px model
    decode_bytes48<B>(b, params, quant, coords, scores);
  } else if (b.w < 64) {
    decode_bytes<B, Window::past_end>(b, params, quant, coords, scores);
  } else {
    decode_bytes<B, Window::two>(b, params, quant, coords, scores);
  }
  return true;
}

template bool neon_faces<float>(const VectorBatch<float>&, const VectorParams&, const Quant&,
                                float*, float*);
template bool neon_faces<std::int8_t>(const VectorBatch<std::int8_t>&, const VectorParams&,
                                      const Quant&, float*, float*);
template bool neon_faces<std::uint8_t>(const VectorBatch<std::uint8_t>&, const VectorParams&,
                                       const Quant&, float*, float*);

}  // namespace detail
}  // namespace gv

#endif  // GV_HAVE_NEON_KERNELS
