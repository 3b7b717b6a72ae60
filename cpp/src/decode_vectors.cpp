// GV vectors -> coordinates: argmax by the chosen kernel, then the rules in rules.hpp.
#include <algorithm>
#include <stdexcept>

#include "gv/decode.hpp"
#include "kernels.hpp"
#include "rules.hpp"

namespace gv {
namespace {

template <class T>
void check_batch(const VectorBatch<T>& b, const float* coords, const float* scores) {
  if (b.count == 0) return;
  if (b.x == nullptr || b.y == nullptr || coords == nullptr || scores == nullptr)
    throw std::invalid_argument("vector batch: null pointer");
  if (b.w < 2 || b.h < 2)
    throw std::invalid_argument("vectors must have length >= 2 (w and h)");
  if (b.x_stride < b.w || b.y_stride < b.h)
    throw std::invalid_argument("vector stride shorter than the vector");
}

template <class T, class Real>
void decode(const VectorBatch<T>& batch, const VectorParams& params, Real real,
            detail::RowsArgmax<T> argmax, float* coords, float* scores) {
  const VectorBatch<T> b = batch;  // a local copy: stores to coords cannot alias it
  const detail::VectorRules rules(params);
  std::size_t ix[detail::kRowsPerBlock];
  std::size_t iy[detail::kRowsPerBlock];
  for (std::size_t start = 0; start < b.count; start += detail::kRowsPerBlock) {
    const std::size_t n = std::min(detail::kRowsPerBlock, b.count - start);
    const T* xs = b.x + start * b.x_stride;
    const T* ys = b.y + start * b.y_stride;
    argmax(xs, n, b.w, b.x_stride, ix);
    argmax(ys, n, b.h, b.y_stride, iy);
    float* c = coords + 2 * start;
    float* s = scores + start;
    for (std::size_t k = 0; k < n; ++k) {
      float px;
      float py;
      c[2 * k] = rules.locate(xs + k * b.x_stride, b.w, ix[k], real, &px);
      c[2 * k + 1] = rules.locate(ys + k * b.y_stride, b.h, iy[k], real, &py);
      s[k] = detail::nan_min(px, py);
    }
  }
}

template <class T>
void decode_quantised(const VectorBatch<T>& b, Quant quant, const VectorParams& params,
                      detail::RowsArgmax<T> argmax, float* coords, float* scores) {
  check_params(params);
  check_quant<T>(quant);
  check_batch(b, coords, scores);
  decode(b, params, detail::RealQuant<T>{quant.scale, quant.zero_point}, argmax, coords, scores);
}

}  // namespace

void decode_vectors(const VectorBatch<float>& batch, const VectorParams& params, float* coords,
                    float* scores, Isa isa) {
  check_params(params);
  check_batch(batch, coords, scores);
  decode(batch, params, detail::RealFloat{}, detail::kernels_for(isa).f32, coords, scores);
}

void decode_vectors(const VectorBatch<std::int8_t>& batch, Quant quant,
                    const VectorParams& params, float* coords, float* scores, Isa isa) {
  decode_quantised(batch, quant, params, detail::kernels_for(isa).i8, coords, scores);
}

void decode_vectors(const VectorBatch<std::uint8_t>& batch, Quant quant,
                    const VectorParams& params, float* coords, float* scores, Isa isa) {
  decode_quantised(batch, quant, params, detail::kernels_for(isa).u8, coords, scores);
}

}  // namespace gv
