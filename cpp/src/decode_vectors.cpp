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

template <class T>
[[gnu::noinline]] void decode_rows(const VectorBatch<T>& batch, const VectorParams& params,
                                   const Quant& quant, detail::RowsLocate<T> locate,
                                   float* coords, float* scores) {
  const VectorBatch<T> b = batch;  // a local copy: stores to coords cannot alias it
  const detail::VectorRules rules(params);
  float px[detail::kRowsPerBlock];
  float py[detail::kRowsPerBlock];
  for (std::size_t start = 0; start < b.count; start += detail::kRowsPerBlock) {
    const std::size_t n = std::min(detail::kRowsPerBlock, b.count - start);
    float* c = coords + 2 * start;
    locate(b.x + start * b.x_stride, n, b.w, b.x_stride, rules, quant, c, 2, px);
    locate(b.y + start * b.y_stride, n, b.h, b.y_stride, rules, quant, c + 1, 2, py);
    float* s = scores + start;
    for (std::size_t k = 0; k < n; ++k) s[k] = detail::nan_min(px[k], py[k]);
  }
}

/// Rules the path's whole-batch decoder implements (NEON: the quarter rule,
/// detail::whole_faces_apply) go to it where it takes the batch's vector length; everything else
/// row by row.
template <class T>
inline void decode(const VectorBatch<T>& batch, const VectorParams& params, const Quant& quant,
                   detail::RowsLocate<T> locate, detail::Faces<T> faces, float* coords,
                   float* scores) {
  if (faces != nullptr && detail::whole_faces_apply(params) &&
      faces(batch, params, quant, coords, scores))
    return;
  decode_rows(batch, params, quant, locate, coords, scores);
}

template <class T>
void decode_quantised(const VectorBatch<T>& b, Quant quant, const VectorParams& params,
                      detail::RowsLocate<T> locate, detail::Faces<T> faces, float* coords,
                      float* scores) {
  check_params(params);
  check_quant<T>(quant);
  check_batch(b, coords, scores);
  decode(b, params, quant, locate, faces, coords, scores);
}

}  // namespace

void decode_vectors(const VectorBatch<float>& batch, const VectorParams& params, float* coords,
                    float* scores, Isa isa) {
  check_params(params);
  check_batch(batch, coords, scores);
  const detail::Kernels& k = detail::kernels_for(isa);
  decode(batch, params, Quant{}, k.f32.locate, k.f32.faces, coords, scores);
}

void decode_vectors(const VectorBatch<std::int8_t>& batch, Quant quant,
                    const VectorParams& params, float* coords, float* scores, Isa isa) {
  const detail::Kernels& k = detail::kernels_for(isa);
  decode_quantised(batch, quant, params, k.i8.locate, k.i8.faces, coords, scores);
}

void decode_vectors(const VectorBatch<std::uint8_t>& batch, Quant quant,
                    const VectorParams& params, float* coords, float* scores, Isa isa) {
  const detail::Kernels& k = detail::kernels_for(isa);
  decode_quantised(batch, quant, params, k.u8.locate, k.u8.faces, coords, scores);
}

}  // namespace gv
