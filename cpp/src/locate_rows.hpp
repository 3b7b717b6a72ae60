// Internal: argmax and the per-landmark rules fused row by row (see RowsLocate in kernels.hpp).
//
// Each kernel translation unit includes this after its target switch, so the loop and its argmax
// are compiled (and inlined) for that ISA. Like argmax_simd.hpp it includes no standard headers:
// the including file brings <cstddef> and <type_traits>, and rules.hpp before the switch.
#pragma once

namespace gv {
namespace detail {

template <bool kParabola, class T, class Real, class Argmax>
inline void locate_rows_rule(const T* base, std::size_t rows, std::size_t len, std::size_t stride,
                             const VectorRules& rules, Real real, float* coord,
                             std::size_t coord_stride, float* peak, Argmax argmax) noexcept {
  constexpr std::size_t kGroup = 16;
  std::size_t idx[kGroup];
  for (std::size_t r0 = 0; r0 < rows; r0 += kGroup) {
    const std::size_t n = rows - r0 < kGroup ? rows - r0 : kGroup;
    const T* b = base + r0 * stride;
    for (std::size_t r = 0; r < n; ++r) idx[r] = argmax(b + r * stride, len);
    for (std::size_t r = 0; r < n; ++r)
      coord[(r0 + r) * coord_stride] =
          rules.template locate<kParabola>(b + r * stride, len, idx[r], real, peak + r0 + r);
  }
}

/// One test of the sub-pixel rule per call, not per row.
template <class T, class Real, class Argmax>
inline void locate_rows_with(const T* base, std::size_t rows, std::size_t len, std::size_t stride,
                             const VectorRules& rules, Real real, float* coord,
                             std::size_t coord_stride, float* peak, Argmax argmax) noexcept {
  if (rules.parabola)
    locate_rows_rule<true>(base, rows, len, stride, rules, real, coord, coord_stride, peak, argmax);
  else
    locate_rows_rule<false>(base, rows, len, stride, rules, real, coord, coord_stride, peak,
                            argmax);
}

/// The RowsLocate body for element type T: float reals as they are, integers dequantised.
template <class T, class Argmax>
inline void locate_rows_any(const T* base, std::size_t rows, std::size_t len, std::size_t stride,
                            const VectorRules& rules, const Quant& quant, float* coord,
                            std::size_t coord_stride, float* peak, Argmax argmax) noexcept {
  if constexpr (std::is_same<T, float>::value) {
    locate_rows_with(base, rows, len, stride, rules, RealFloat{}, coord, coord_stride, peak,
                     argmax);
  } else {
    locate_rows_with(base, rows, len, stride, rules, RealQuant<T>{quant.scale, quant.zero_point},
                     coord, coord_stride, peak, argmax);
  }
}

}  // namespace detail
}  // namespace gv
