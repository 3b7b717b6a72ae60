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
// exactly), the score as the smaller peak.
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
  uint8x16_t three = vdupq_n_u8(3), four = vdupq_n_u8(4);
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
  // The score is the smaller real peak of each pair of lanes; dequantising is increasing, so
  // take the smaller integer and dequantise once.
  const float32x4x2_t s = c.dequantise(B::pairwise_min(peak));
  vst1q_f32(scores, s.val[0]);
  if (kL == 8) vst1q_f32(scores + 4, s.val[1]);
  if (any_rare(index, rows.len()))
    redo_rare<kL>(index, rows.len(), x, xs, y, ys, params, c.real, coords, scores);
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
