// int8/uint8 decoding equals dequantise-then-decode bit for bit (real = float32(q - zp) * scale),
// on every path, for scales across the whole allowed float32 range, with either sub-pixel rule;
// and dequantise-then-decode equals the naive reference.
#include <cstdint>
#include <limits>
#include <vector>

#include "gv/decode.hpp"
#include "harness.hpp"
#include "reference.hpp"

namespace {

template <class T>
std::vector<float> dequantise(const std::vector<T>& q, gv::Quant quant) {
  std::vector<float> out(q.size());
  for (std::size_t i = 0; i < q.size(); ++i)
    out[i] = static_cast<float>(static_cast<int>(q[i]) - quant.zero_point) * quant.scale;
  return out;
}

template <class T>
gv::Quant random_quant(gvref::Gen& gen) {
  const float scales[] = {1.0f / 255, 0.0039215f, 0.05f, 1.7f, 1e-37f, 3e35f,
                          static_cast<float>(gen.uniform(1e-4, 0.2))};
  const int lo = std::numeric_limits<T>::min();
  const int hi = std::numeric_limits<T>::max();
  const int zps[] = {lo, hi, 0, static_cast<int>(lo + gen.index(hi - lo + 1))};
  return gv::Quant{scales[gen.index(7)], zps[gen.index(4)]};
}

template <class T>
void check_vectors(std::uint64_t seed, gv::Subpixel subpixel) {
  gvref::Gen gen(seed);
  const std::size_t shapes[][3] = {{68, 64, 64}, {3, 2, 2}, {150, 65, 33}, {9, 200, 128}};
  for (const auto& s : shapes)
    for (int rep = 0; rep < 8; ++rep) {
      const std::size_t count = s[0], w = s[1], h = s[2];
      const auto packed = gen.ints<T>(count * (w + h));
      const gv::Quant quant = random_quant<T>(gen);
      // Beyond Box needs peaks on both sides of tau, so tau follows the scale.
      const double tau = quant.scale * gen.uniform(1.0, 200.0);
      const gv::VectorParams p{gen.chance(0.7), tau, gen.uniform(0.5, 4.0), subpixel};
      const auto real = dequantise(packed, quant);
      std::vector<float> want_c(2 * count), want_s(count);
      gv::decode_vectors(gv::packed_vectors(real.data(), count, w, h), p, want_c.data(),
                         want_s.data(), gv::Isa::scalar);
      const bool para = subpixel == gv::Subpixel::parabola;
      for (std::size_t k = 0; k < count; ++k) {
        const float* xk = &real[k * (w + h)];
        CHECK_BITS(want_c[2 * k], gvref::locate(xk, w, p.beyond_box, p.tau, p.sigma, para));
        CHECK_BITS(want_c[2 * k + 1], gvref::locate(xk + w, h, p.beyond_box, p.tau, p.sigma, para));
      }
      for (gv::Isa isa : gv::supported_isas()) {
        std::vector<float> c(2 * count), sc(count);
        gv::decode_vectors(gv::packed_vectors(packed.data(), count, w, h), quant, p, c.data(),
                           sc.data(), isa);
        for (std::size_t i = 0; i < c.size(); ++i) CHECK_BITS(c[i], want_c[i]);
        for (std::size_t i = 0; i < sc.size(); ++i) CHECK_BITS(sc[i], want_s[i]);
      }
    }
}

template <class T>
void check_heatmaps(std::uint64_t seed, gv::Subpixel subpixel) {
  gvref::Gen gen(seed);
  const std::size_t shapes[][3] = {{5, 64, 64}, {3, 1, 7}, {4, 9, 1}, {130, 5, 6}, {2, 33, 31}};
  for (const auto& s : shapes)
    for (int rep = 0; rep < 4; ++rep) {
      const std::size_t count = s[0], rows = s[1], cols = s[2];
      const auto q = gen.ints<T>(count * rows * cols);
      const gv::Quant quant = random_quant<T>(gen);
      const auto real = dequantise(q, quant);
      std::vector<float> want_c(2 * count), want_s(count);
      gv::decode_heatmaps(gv::HeatmapBatch<float>{real.data(), count, rows, cols}, want_c.data(),
                          want_s.data(), subpixel, gv::Isa::scalar);
      std::vector<float> ref_c, ref_s;
      gvref::heatmaps(real.data(), count, rows, cols, subpixel == gv::Subpixel::parabola, ref_c,
                      ref_s);
      for (std::size_t i = 0; i < ref_c.size(); ++i) CHECK_BITS(want_c[i], ref_c[i]);
      for (std::size_t i = 0; i < ref_s.size(); ++i) CHECK_BITS(want_s[i], ref_s[i]);
      for (gv::Isa isa : gv::supported_isas()) {
        std::vector<float> c(2 * count), sc(count);
        gv::decode_heatmaps(gv::HeatmapBatch<T>{q.data(), count, rows, cols}, quant, c.data(),
                            sc.data(), subpixel, isa);
        for (std::size_t i = 0; i < c.size(); ++i) CHECK_BITS(c[i], want_c[i]);
        for (std::size_t i = 0; i < sc.size(); ++i) CHECK_BITS(sc[i], want_s[i]);
      }
    }
}

}  // namespace

constexpr gv::Subpixel kQuarter = gv::Subpixel::quarter;
constexpr gv::Subpixel kParabola = gv::Subpixel::parabola;

GV_TEST(int8_vectors_equal_dequantised_float) { check_vectors<std::int8_t>(21, kQuarter); }
GV_TEST(uint8_vectors_equal_dequantised_float) { check_vectors<std::uint8_t>(22, kQuarter); }
GV_TEST(int8_heatmaps_equal_dequantised_float) { check_heatmaps<std::int8_t>(23, kQuarter); }
GV_TEST(uint8_heatmaps_equal_dequantised_float) { check_heatmaps<std::uint8_t>(24, kQuarter); }

// The parabola reads dequantised neighbours (not raw integers): still equal bit for bit.
GV_TEST(int8_vectors_parabola_equal_dequantised_float) {
  check_vectors<std::int8_t>(31, kParabola);
}
GV_TEST(uint8_vectors_parabola_equal_dequantised_float) {
  check_vectors<std::uint8_t>(32, kParabola);
}
GV_TEST(int8_heatmaps_parabola_equal_dequantised_float) {
  check_heatmaps<std::int8_t>(33, kParabola);
}
GV_TEST(uint8_heatmaps_parabola_equal_dequantised_float) {
  check_heatmaps<std::uint8_t>(34, kParabola);
}
