// Gaussian Vector decoding (and the heatmap baseline) per docs/decoding.md.
//
// All functions decode a batch of `count` landmarks into `coords` (count x 2: x, y; heatmap
// pixels, 0-based pixel centres) and `scores` (count), both float32 buffers owned by the caller.
// They never allocate and keep no state, so any number of threads may call them at once.
// Invalid arguments (null pointers, w < 2, strides shorter than the vectors, sigma/tau not finite
// and > 0, scale not a normal positive float) throw std::invalid_argument before any output is
// written. NaN never wins the argmax; see docs/native.md for what NaN/Inf inputs produce.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "gv/isa.hpp"

namespace gv {

/// Sub-pixel rules for an interior peak i (0 < i < n - 1; end peaks keep their own rules), ONE
/// list (the enum, the binding's names and the checks come from it):
///  quarter:  i + 0.25 * sign(v[i+1] - v[i-1]), the paper's shift toward the larger neighbour
///            (docs/decoding.md, rule 2).
///  parabola: i + the vertex of the parabola through (-1, v[i-1]), (0, v[i]), (1, v[i+1]), in
///            float64 and clamped to [-0.5, 0.5]; 0 where the three real values do not bend down
///            or the vertex is not finite (rule 2b). Same numbers as gaussian_vector.decode.
#define GV_SUBPIXEL_LIST(X) \
  X(quarter)                \
  X(parabola)

enum class Subpixel {
#define GV_SUBPIXEL_ENUMERATOR(name) name,
  GV_SUBPIXEL_LIST(GV_SUBPIXEL_ENUMERATOR)
#undef GV_SUBPIXEL_ENUMERATOR
};

/// The name of a sub-pixel rule ("quarter", "parabola"), or nullptr for a value not in the list
/// (the enumerators are 0, 1, ... in its order, so a caller may walk them until nullptr).
const char* subpixel_name(Subpixel subpixel) noexcept;
/// Every sub-pixel rule's name, comma-separated ("quarter, parabola"): for messages.
std::string subpixel_names();

/// The fields of `VectorParams`, ONE list: X(type, name, default, check), in the order of the
/// struct (aggregate initialisation follows it) and of the Python `DecodeRules`. The struct,
/// `check_params` and the binding's reading of a `DecodeRules` (by these attribute names,
/// cpp/python/arrays.cpp) are generated from it. `check` names what a valid value is:
///  any:      every value of the type (bool);
///  positive: finite and > 0 (a double);
///  known:    a value of the list of its enum (Subpixel).
/// Adding a rule: a line here, its effect in src/rules.hpp, and its field and numpy reference in
/// gaussian_vector/decode_rules.py (docs/design.md, "Adding a rule, a head or a format").
#define GV_VECTOR_PARAMS(X)                       \
  X(bool, beyond_box, true, any)                  \
  X(double, tau, 2.0, positive)                   \
  X(double, sigma, 2.0, positive)                 \
  X(Subpixel, subpixel, Subpixel::quarter, known)

/// Beyond Box parameters (docs/decoding.md, rule 3; paper Table 6: tau = sigma = 2) and the
/// sub-pixel rule for interior peaks.
struct VectorParams {
#define GV_VECTOR_PARAMS_FIELD(type, name, init, check) type name = init;
  GV_VECTOR_PARAMS(GV_VECTOR_PARAMS_FIELD)
#undef GV_VECTOR_PARAMS_FIELD
};

/// Affine quantisation of an int8/uint8 tensor: real = (q - zero_point) * scale, in float32.
/// scale must be a normal float > 0 with 512 * scale finite; zero_point must lie in the range of
/// the element type. Then integer order equals real order, so argmax runs on the raw integers.
struct Quant {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
};

/// `count` (x, y) vector pairs. Landmark j's x-vector is x[j*x_stride .. j*x_stride + w) and its
/// y-vector y[j*y_stride .. j*y_stride + h). Split tensors (N, K, W) + (N, K, H) have strides w and
/// h; the packed tensor (N, K, W + H) has x = data, y = data + w and both strides w + h.
template <class T>
struct VectorBatch {
  const T* x = nullptr;
  const T* y = nullptr;
  std::size_t count = 0;
  std::size_t w = 0;
  std::size_t h = 0;
  std::size_t x_stride = 0;
  std::size_t y_stride = 0;
};

/// Split layout: x is (count, w), y is (count, h), both C-contiguous.
template <class T>
VectorBatch<T> split_vectors(const T* x, const T* y, std::size_t count, std::size_t w,
                             std::size_t h) {
  return VectorBatch<T>{x, y, count, w, h, w, h};
}

/// Packed layout: data is (count, w + h), x-vector first, then y-vector, C-contiguous.
template <class T>
VectorBatch<T> packed_vectors(const T* data, std::size_t count, std::size_t w, std::size_t h) {
  return VectorBatch<T>{data, data + w, count, w, h, w + h, w + h};
}

/// `count` heatmaps of rows x cols, C-contiguous, one after another.
template <class T>
struct HeatmapBatch {
  const T* data = nullptr;
  std::size_t count = 0;
  std::size_t rows = 0;
  std::size_t cols = 0;
};

void decode_vectors(const VectorBatch<float>& batch, const VectorParams& params, float* coords,
                    float* scores, Isa isa = Isa::automatic);
void decode_vectors(const VectorBatch<std::int8_t>& batch, Quant quant,
                    const VectorParams& params, float* coords, float* scores,
                    Isa isa = Isa::automatic);
void decode_vectors(const VectorBatch<std::uint8_t>& batch, Quant quant,
                    const VectorParams& params, float* coords, float* scores,
                    Isa isa = Isa::automatic);

/// Heatmaps: 2-D argmax, then `subpixel` applied per axis along the peak's row (x) and column
/// (y) where the peak is interior on that axis; an axis where it lies on the edge gets no shift.
void decode_heatmaps(const HeatmapBatch<float>& batch, float* coords, float* scores,
                     Subpixel subpixel = Subpixel::quarter, Isa isa = Isa::automatic);
void decode_heatmaps(const HeatmapBatch<std::int8_t>& batch, Quant quant, float* coords,
                     float* scores, Subpixel subpixel = Subpixel::quarter,
                     Isa isa = Isa::automatic);
void decode_heatmaps(const HeatmapBatch<std::uint8_t>& batch, Quant quant, float* coords,
                     float* scores, Subpixel subpixel = Subpixel::quarter,
                     Isa isa = Isa::automatic);

/// The first index of the maximum of v[0..n) (NaN never wins; 0 when nothing beats -inf),
/// computed by the chosen path. Exposed for tests and benchmarks; n >= 1.
std::size_t argmax(const float* v, std::size_t n, Isa isa = Isa::automatic);
std::size_t argmax(const std::int8_t* v, std::size_t n, Isa isa = Isa::automatic);
std::size_t argmax(const std::uint8_t* v, std::size_t n, Isa isa = Isa::automatic);

/// Throws std::invalid_argument naming the field and the rule unless every field of the
/// parameters passes its check in GV_VECTOR_PARAMS.
void check_params(const VectorParams& params);
void check_subpixel(Subpixel subpixel);
template <class T>
void check_quant(Quant quant);

}  // namespace gv
