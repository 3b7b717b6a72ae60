// Heatmaps -> coordinates (the baseline): flattened argmax by the chosen kernel, then the
// Stacked Hourglass quarter-pixel shift, or the parabola vertex, on each axis where the peak is
// interior (docs/decoding.md).
#include <algorithm>
#include <limits>
#include <stdexcept>

#include "gv/decode.hpp"
#include "kernels.hpp"
#include "rules.hpp"

namespace gv {
namespace {

template <class T>
void check_batch(const HeatmapBatch<T>& b, const float* coords, const float* scores) {
  if (b.count == 0) return;
  if (b.data == nullptr || coords == nullptr || scores == nullptr)
    throw std::invalid_argument("heatmap batch: null pointer");
  if (b.rows < 1 || b.cols < 1) throw std::invalid_argument("heatmaps must have rows, cols >= 1");
  if (b.rows > std::numeric_limits<std::size_t>::max() / b.cols)
    throw std::invalid_argument("heatmap size overflows");
}

template <class T, class Real>
void decode(const HeatmapBatch<T>& b, Real real, Subpixel subpixel, detail::RowsArgmax<T> argmax,
            float* coords, float* scores) {
  const bool parabola = subpixel == Subpixel::parabola;
  const std::size_t size = b.rows * b.cols;
  std::size_t idx[detail::kRowsPerBlock];
  for (std::size_t start = 0; start < b.count; start += detail::kRowsPerBlock) {
    const std::size_t n = std::min(detail::kRowsPerBlock, b.count - start);
    const T* maps = b.data + start * size;
    argmax(maps, n, size, size, idx);
    for (std::size_t k = 0; k < n; ++k) {
      const T* h = maps + k * size;
      const std::size_t r = idx[k] / b.cols;
      const std::size_t c = idx[k] % b.cols;
      const T* at = h + idx[k];
      const bool in_x = c > 0 && c + 1 < b.cols;
      const bool in_y = r > 0 && r + 1 < b.rows;
      const float peak = real(*at);
      if (parabola) {
        // Neighbours along the peak's row (x) and column (y), as real values.
        const double ox = in_x ? detail::parabola_offset(real(at[-1]), peak, real(at[1])) : 0.0;
        const double oy =
            in_y ? detail::parabola_offset(real(*(at - b.cols)), peak, real(at[b.cols])) : 0.0;
        coords[2 * (start + k)] = detail::offset_location(c, ox);
        coords[2 * (start + k) + 1] = detail::offset_location(r, oy);
      } else {
        const int sx = in_x ? detail::sign_of_difference(at[1], at[-1]) : 0;
        const int sy = in_y ? detail::sign_of_difference(at[b.cols], *(at - b.cols)) : 0;
        coords[2 * (start + k)] = detail::quarter_shift(c, sx);
        coords[2 * (start + k) + 1] = detail::quarter_shift(r, sy);
      }
      scores[start + k] = peak;
    }
  }
}

template <class T>
void decode_quantised(const HeatmapBatch<T>& b, Quant quant, Subpixel subpixel,
                      detail::RowsArgmax<T> argmax, float* coords, float* scores) {
  check_subpixel(subpixel);
  check_quant<T>(quant);
  check_batch(b, coords, scores);
  decode(b, detail::RealQuant<T>{quant.scale, quant.zero_point}, subpixel, argmax, coords,
         scores);
}

}  // namespace

void decode_heatmaps(const HeatmapBatch<float>& batch, float* coords, float* scores,
                     Subpixel subpixel, Isa isa) {
  check_subpixel(subpixel);
  check_batch(batch, coords, scores);
  decode(batch, detail::RealFloat{}, subpixel, detail::kernels_for(isa).f32.argmax, coords,
         scores);
}

void decode_heatmaps(const HeatmapBatch<std::int8_t>& batch, Quant quant, float* coords,
                     float* scores, Subpixel subpixel, Isa isa) {
  decode_quantised(batch, quant, subpixel, detail::kernels_for(isa).i8.argmax, coords, scores);
}

void decode_heatmaps(const HeatmapBatch<std::uint8_t>& batch, Quant quant, float* coords,
                     float* scores, Subpixel subpixel, Isa isa) {
  decode_quantised(batch, quant, subpixel, detail::kernels_for(isa).u8.argmax, coords, scores);
}

}  // namespace gv
