// Internal: the per-landmark rules of docs/decoding.md, applied once the argmax is known.
//
// Everything the numpy reference computes in float64 is computed here in double, in the same
// order, and rounded to float32 at the same point, so the results are the same numbers.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "gv/decode.hpp"

namespace gv {
namespace detail {

/// Rows decoded per argmax call; the index buffers live on the stack (no allocation).
constexpr std::size_t kRowsPerBlock = 128;

/// Real value of an element: the float itself, or float32(q - zero_point) * float32(scale).
struct RealFloat {
  float operator()(float v) const noexcept { return v; }
};
template <class T>
struct RealQuant {
  float scale;
  std::int32_t zero_point;
  float operator()(T q) const noexcept {
    return static_cast<float>(static_cast<std::int32_t>(q) - zero_point) * scale;
  }
};

/// -1, 0 or +1 as the sign of a - b; 0 when they are equal or either is NaN.
template <class A>
inline int sign_of_difference(A a, A b) noexcept {
  return static_cast<int>(a > b) - static_cast<int>(a < b);
}

/// i + 0.25 * sign as the reference computes it (in double, rounded once to float32). Below 2^22
/// the sum is exact in float32, so the cheaper float arithmetic gives the very same number.
inline float quarter_shift(std::size_t i, int sign) noexcept {
  if (i < (std::size_t{1} << 22))  // 4i + sign < 2^24: exact in float32, and so is * 0.25
    return static_cast<float>(static_cast<std::int32_t>(4 * i) + sign) * 0.25f;
  return static_cast<float>(static_cast<double>(i) + 0.25 * sign);
}

/// Vertex of the parabola through (-1, l), (0, p), (1, r) (docs/decoding.md, rule 2b), as the
/// reference computes it in float64: 0 unless the values bend down (curvature < 0, so NaN gives
/// 0) and the vertex is finite, else clamped to [-0.5, 0.5]. The library is built with
/// -ffp-contract=off, so no fused multiply-add changes the rounding on any target.
inline double parabola_offset(double l, double p, double r) noexcept {
  const double curvature = l - 2.0 * p + r;
  if (!(curvature < 0)) return 0.0;
  const double off = 0.5 * (l - r) / curvature;
  if (!std::isfinite(off)) return 0.0;
  return off < -0.5 ? -0.5 : (off > 0.5 ? 0.5 : off);
}

/// i + offset in double, rounded once to float32 (the reference's idx + offset).
inline float offset_location(std::size_t i, double offset) noexcept {
  return static_cast<float>(static_cast<double>(i) + offset);
}

/// min(a, b) that returns NaN when either is NaN (numpy's np.minimum).
inline float nan_min(float a, float b) noexcept {
  if (std::isnan(a)) return a;
  if (std::isnan(b)) return b;
  return b < a ? b : a;
}

/// Whether the whole-face decoders (`Faces` in kernels.hpp: NEON) may decode with these
/// parameters: they apply the quarter shift to interior peaks themselves and hand only end peaks
/// (and NaN rows) to VectorRules::locate<false>. A rule that changes interior peaks adds its
/// condition here, so those faces go row by row through `locate`.
inline bool whole_faces_apply(const VectorParams& p) noexcept {
  return p.subpixel == Subpixel::quarter;
}

/// Beyond Box and end-element constants derived once per call from the parameters.
struct VectorRules {
  bool beyond_box;
  bool parabola;  // interior sub-pixel rule: parabola vertex, else the quarter shift
  double tau;
  double two_sigma2;  // 2 sigma^2
  double max_d;       // 3 sigma: the label's support
  double g1;          // exp(-1 / (2 sigma^2)): one pixel from a centred peak

  explicit VectorRules(const VectorParams& p) noexcept
      : beyond_box(p.beyond_box),
        parabola(p.subpixel == Subpixel::parabola),
        tau(p.tau),
        two_sigma2(2.0 * p.sigma * p.sigma),
        max_d(3.0 * p.sigma),
        g1(std::exp(-1.0 / (2.0 * p.sigma * p.sigma))) {}

  /// Distance beyond the end for an end peak below tau (paper Eq. 6-7), in [0, 3 sigma].
  double beyond_distance(float peak) const noexcept {
    const double p = peak;
    if (!(p > 0)) return max_d;
    const double d = std::sqrt(two_sigma2 * std::log(tau / p));
    return d < max_d ? d : max_d;
  }

  /// Location of one vector v[0..w) whose argmax is i; writes the real peak value. The interior
  /// rule is a template argument, so the row loop is compiled once per rule with no test inside.
  template <bool kParabola, class T, class Real>
  float locate(const T* v, std::size_t w, std::size_t i, Real real, float* peak) const noexcept {
    const float pk = real(v[i]);
    *peak = pk;
    if (i > 0 && i + 1 < w) {
      if constexpr (kParabola)
        return offset_location(i, parabola_offset(real(v[i - 1]), pk, real(v[i + 1])));
      else
        return quarter_shift(i, sign_of_difference(v[i + 1], v[i - 1]));
    }
    const bool first = i == 0;
    if (beyond_box && !(static_cast<double>(pk) >= tau)) {
      const double d = beyond_distance(pk);
      return first ? static_cast<float>(-d) : static_cast<float>(static_cast<double>(w - 1) + d);
    }
    if (first) return quarter_shift(0, sign_of_difference(static_cast<double>(real(v[1])), g1));
    return quarter_shift(w - 1, sign_of_difference(g1, static_cast<double>(real(v[w - 2]))));
  }
};

}  // namespace detail
}  // namespace gv
