// Heatmaps -> coordinates (the baseline): flattened argmax by the chosen kernel, then the
// Stacked Hourglass quarter-pixel shift on interior peaks (docs/decoding.md).
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
void decode(const HeatmapBatch<T>& b, Real real, detail::RowsArgmax<T> argmax, float* coords,
            float* scores) {
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
      const int sx = (c > 0 && c + 1 < b.cols) ? detail::sign_of_difference(at[1], at[-1]) : 0;
      const int sy = (r > 0 && r + 1 < b.rows)
                         ? detail::sign_of_difference(at[b.cols], *(at - b.cols))
                         : 0;
      coords[2 * (start + k)] = detail::quarter_shift(c, sx);
      coords[2 * (start + k) + 1] = detail::quarter_shift(r, sy);
      scores[start + k] = real(*at);
    }
  }
}

template <class T>
void decode_quantised(const HeatmapBatch<T>& b, Quant quant, detail::RowsArgmax<T> argmax,
                      float* coords, float* scores) {
  check_quant<T>(quant);
  check_batch(b, coords, scores);
  decode(b, detail::RealQuant<T>{quant.scale, quant.zero_point}, argmax, coords, scores);
}

}  // namespace

void decode_heatmaps(const HeatmapBatch<float>& batch, float* coords, float* scores, Isa isa) {
  check_batch(batch, coords, scores);
  decode(batch, detail::RealFloat{}, detail::kernels_for(isa).f32, coords, scores);
}

void decode_heatmaps(const HeatmapBatch<std::int8_t>& batch, Quant quant, float* coords,
                     float* scores, Isa isa) {
  decode_quantised(batch, quant, detail::kernels_for(isa).i8, coords, scores);
}

void decode_heatmaps(const HeatmapBatch<std::uint8_t>& batch, Quant quant, float* coords,
                     float* scores, Isa isa) {
  decode_quantised(batch, quant, detail::kernels_for(isa).u8, coords, scores);
}

}  // namespace gv
