// The portable argmax path: plain C++ whose inner loops (16 independent lanes per chunk) the
// compiler is free to vectorise. It defines the chunked scan the SIMD paths use for rows longer
// than kShortMax (argmax_simd.hpp); it scans shorter ones the same way, then element by element.
#include <cstddef>
#include <limits>
#include <type_traits>

#include "kernels.hpp"
#include "rules.hpp"
// after rules.hpp, which it builds on
#include "locate_rows.hpp"

namespace gv {
namespace detail {
namespace {

template <class T>
constexpr T lowest() noexcept {
  return std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                              : std::numeric_limits<T>::lowest();
}

// `a > b ? a : b` keeps b when a is NaN: the accumulators are seeded with a non-NaN value and
// stay NaN-free, so NaN never wins.
template <class T>
inline T max_keep(T a, T b) noexcept {
  return a > b ? a : b;
}

template <class T>
std::size_t argmax_row(const T* v, std::size_t n) noexcept {
  constexpr std::size_t kLanes = 16;
  T best = lowest<T>();
  std::size_t best_chunk = n;  // n: no chunk has beaten the initial value
  std::size_t j = 0;
  for (; j + kChunk <= n; j += kChunk) {
    T acc[kLanes];
    for (std::size_t l = 0; l < kLanes; ++l) acc[l] = best;
    for (std::size_t k = 0; k < kChunk; k += kLanes)
      for (std::size_t l = 0; l < kLanes; ++l) acc[l] = max_keep(v[j + k + l], acc[l]);
    T m = acc[0];
    for (std::size_t l = 1; l < kLanes; ++l) m = max_keep(acc[l], m);
    if (m > best) {
      best = m;
      best_chunk = j;
    }
  }
  std::size_t idx = 0;
  if (best_chunk != n)
    for (idx = best_chunk; !(v[idx] == best); ++idx) {
    }
  for (; j < n; ++j)
    if (v[j] > best) {
      best = v[j];
      idx = j;
    }
  return idx;
}

template <class T>
void argmax_rows(const T* base, std::size_t rows, std::size_t len, std::size_t stride,
                 std::size_t* out) noexcept {
  for (std::size_t r = 0; r < rows; ++r) out[r] = argmax_row(base + r * stride, len);
}

template <class T>
void locate_rows(const T* base, std::size_t rows, std::size_t len, std::size_t stride,
                 const VectorRules& rules, const Quant& quant, float* coord,
                 std::size_t coord_stride, float* peak) noexcept {
  locate_rows_any(base, rows, len, stride, rules, quant, coord, coord_stride, peak,
                  [](const T* v, std::size_t n) { return argmax_row(v, n); });
}

template <class T>
constexpr TypeKernels<T> kTypeKernels{&argmax_rows<T>, &locate_rows<T>};

}  // namespace

const Kernels* scalar_kernels() noexcept {
  static constexpr Kernels k{&baseline_cpu, kTypeKernels<float>, kTypeKernels<std::int8_t>,
                             kTypeKernels<std::uint8_t>};
  return &k;
}

}  // namespace detail
}  // namespace gv
