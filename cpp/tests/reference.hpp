// Test-side reference: a deliberately naive transcription of docs/decoding.md (one element at a
// time, float64 where the numpy reference uses float64), independent of the library's code, plus
// random test data with the awkward values (NaN, +-inf, ties, -0) mixed in.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace gvref {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

/// First maximum; NaN never wins; 0 if nothing beats -inf.
template <class T>
std::size_t argmax(const T* v, std::size_t n) {
  double best = -INFINITY;
  std::size_t idx = 0;
  for (std::size_t j = 0; j < n; ++j)
    if (static_cast<double>(v[j]) > best) {
      best = static_cast<double>(v[j]);
      idx = j;
    }
  return idx;
}

inline double sgn(double d) { return d > 0 ? 1.0 : (d < 0 ? -1.0 : 0.0); }  // NaN -> 0

/// Parabola vertex offset (docs/decoding.md rule 2b), transcribed from the numpy reference:
/// divide by the curvature where it is negative (else by -1), then keep the result only where
/// the curvature is negative and the quotient finite, clipped to [-0.5, 0.5].
inline double parabola(double left, double peak, double right) {
  const double curvature = left - 2.0 * peak + right;
  const double off = 0.5 * (left - right) / (curvature < 0 ? curvature : -1.0);
  if (!(curvature < 0) || !std::isfinite(off)) return 0.0;
  return std::fmin(std::fmax(off, -0.5), 0.5);
}

/// Location along one float vector (docs/decoding.md rules 1-3; rule 2b when `use_parabola`).
inline float locate(const float* v, std::size_t w, bool beyond_box, double tau, double sigma,
                    bool use_parabola = false) {
  const std::size_t i = argmax(v, w);
  const double g1 = std::exp(-1.0 / (2.0 * sigma * sigma));
  const double peak = v[i];
  if (i > 0 && i < w - 1) {
    if (use_parabola) return static_cast<float>(i + parabola(v[i - 1], peak, v[i + 1]));
    return static_cast<float>(i + 0.25 * sgn(double(v[i + 1]) - v[i - 1]));
  }
  if (beyond_box && !(peak >= tau)) {
    double d = 3.0 * sigma;
    if (peak > 0) d = std::fmin(std::sqrt(2.0 * sigma * sigma * std::log(tau / peak)), 3.0 * sigma);
    return static_cast<float>(i == 0 ? -d : (w - 1) + d);
  }
  if (i == 0) return static_cast<float>(0.25 * sgn(double(v[1]) - g1));
  return static_cast<float>((w - 1) + 0.25 * sgn(g1 - double(v[w - 2])));
}

/// One float heatmap of rows x cols: 2-D argmax, then per axis where the peak is interior the
/// quarter shift (or with `use_parabola` the vertex) along its row (x) and column (y), float64.
inline void heatmap(const float* h, std::size_t rows, std::size_t cols, bool use_parabola,
                    float* xy, float* score) {
  const std::size_t idx = argmax(h, rows * cols);
  const std::size_t r = idx / cols, c = idx % cols;
  double x = c, y = r;
  if (c > 0 && c < cols - 1)
    x += use_parabola ? parabola(h[idx - 1], h[idx], h[idx + 1])
                      : 0.25 * sgn(double(h[idx + 1]) - h[idx - 1]);
  if (r > 0 && r < rows - 1)
    y += use_parabola ? parabola(h[idx - cols], h[idx], h[idx + cols])
                      : 0.25 * sgn(double(h[idx + cols]) - h[idx - cols]);
  xy[0] = static_cast<float>(x);
  xy[1] = static_cast<float>(y);
  *score = h[idx];
}

/// `count` heatmaps one after another: coords (count x 2) and scores (count) as `heatmap` gives.
inline void heatmaps(const float* h, std::size_t count, std::size_t rows, std::size_t cols,
                     bool use_parabola, std::vector<float>& coords, std::vector<float>& scores) {
  coords.assign(2 * count, 0.0f);
  scores.assign(count, 0.0f);
  for (std::size_t k = 0; k < count; ++k)
    heatmap(h + k * rows * cols, rows, cols, use_parabola, &coords[2 * k], &scores[k]);
}

/// Random floats: mostly a smooth bump plus noise, sometimes ties, NaN, inf, -0, negatives.
struct Gen {
  std::mt19937_64 rng;
  explicit Gen(std::uint64_t seed) : rng(seed) {}

  double uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }
  std::size_t index(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); }
  bool chance(double p) { return uniform(0, 1) < p; }

  std::vector<float> floats(std::size_t n, bool specials) {
    std::vector<float> v(n);
    const int kind = static_cast<int>(index(5));
    const double centre = uniform(-8.0, n + 8.0);
    const double width = uniform(0.7, 4.0);
    const double height = uniform(0.05, 3.5);
    for (std::size_t j = 0; j < n; ++j) {
      const double d = (j - centre) / width;
      switch (kind) {
        case 0:  // a Gaussian bump with noise, like a network output
          v[j] = static_cast<float>(height * std::exp(-0.5 * d * d) + uniform(-0.05, 0.05));
          break;
        case 1:  // few distinct values: many ties
          v[j] = static_cast<float>(index(4)) * 0.5f;
          break;
        case 2:  // plain noise, sometimes negative everywhere
          v[j] = static_cast<float>(uniform(-2.0, 1.0));
          break;
        case 3:  // a clean label-like bump (exact ends exercise g1 and Beyond Box)
          v[j] = static_cast<float>(height * std::exp(-0.5 * d * d));
          break;
        default:  // constant
          v[j] = 0.25f;
      }
    }
    if (specials) {
      const float pool[] = {kNaN, kInf, -kInf, -0.0f, 0.0f, 1e-40f, -1e-40f};
      const std::size_t count = index(4);
      for (std::size_t c = 0; c < count; ++c) v[index(n)] = pool[index(7)];
      if (chance(0.03)) v.assign(n, kNaN);
      if (chance(0.03)) v.assign(n, -kInf);
    }
    return v;
  }

  template <class T>
  std::vector<T> ints(std::size_t n) {
    std::vector<T> v(n);
    const int lo = std::numeric_limits<T>::min();
    const int hi = std::numeric_limits<T>::max();
    const int kind = static_cast<int>(index(4));
    const int a = std::uniform_int_distribution<int>(lo, hi)(rng);
    const int b = std::uniform_int_distribution<int>(lo, hi)(rng);
    const int mn = a < b ? a : b;
    const int mx = a < b ? b : a;
    for (std::size_t j = 0; j < n; ++j) {
      int x = std::uniform_int_distribution<int>(mn, mx)(rng);
      if (kind == 1) x = lo + static_cast<int>(index(3));  // ties near the bottom
      if (kind == 2) x = hi - static_cast<int>(index(2));  // ties at the top
      v[j] = static_cast<T>(x);
    }
    if (kind == 3) v.assign(n, static_cast<T>(lo));
    return v;
  }
};

}  // namespace gvref
