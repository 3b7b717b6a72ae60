// Heatmap baseline decoding: known answers, every path bit-identical, and the naive reference.
#include <cmath>
#include <vector>

#include "gv/decode.hpp"
#include "harness.hpp"
#include "reference.hpp"

namespace {

void decode(const std::vector<float>& h, std::size_t count, std::size_t rows, std::size_t cols,
            std::vector<float>& c, std::vector<float>& s, gv::Isa isa = gv::Isa::automatic) {
  c.assign(2 * count, 0.0f);
  s.assign(count, 0.0f);
  gv::decode_heatmaps(gv::HeatmapBatch<float>{h.data(), count, rows, cols}, c.data(), s.data(),
                      isa);
}

// Naive: 2-D argmax, then the interior-only quarter shift in float64.
void reference(const float* h, std::size_t rows, std::size_t cols, float* xy, float* score) {
  const std::size_t idx = gvref::argmax(h, rows * cols);
  const std::size_t r = idx / cols, c = idx % cols;
  double x = c, y = r;
  if (c > 0 && c < cols - 1) x += 0.25 * gvref::sgn(double(h[idx + 1]) - h[idx - 1]);
  if (r > 0 && r < rows - 1) y += 0.25 * gvref::sgn(double(h[idx + cols]) - h[idx - cols]);
  xy[0] = static_cast<float>(x);
  xy[1] = static_cast<float>(y);
  *score = h[idx];
}

}  // namespace

GV_TEST(heatmap_known_answers) {
  std::vector<float> h(5 * 6, 0.0f), c, s;
  h[2 * 6 + 3] = 1.0f;  // peak at row 2, col 3
  h[2 * 6 + 4] = 0.5f;  // right neighbour larger: x + 0.25
  h[1 * 6 + 3] = 0.5f;  // upper neighbour larger: y - 0.25
  decode(h, 1, 5, 6, c, s);
  CHECK_BITS(c[0], 3.25f);
  CHECK_BITS(c[1], 1.75f);
  CHECK_BITS(s[0], 1.0f);
  std::vector<float> edge(5 * 6, 0.0f);
  edge[0 * 6 + 5] = 2.0f;  // top-right corner: no shift on either axis
  edge[1 * 6 + 5] = 1.0f;
  edge[0 * 6 + 4] = 1.5f;
  decode(edge, 1, 5, 6, c, s);
  CHECK_BITS(c[0], 5.0f);
  CHECK_BITS(c[1], 0.0f);
}

GV_TEST(heatmap_all_paths_bit_identical_and_match_reference) {
  gvref::Gen gen(5);
  const std::size_t shapes[][3] = {{68, 64, 64}, {3, 1, 1}, {4, 1, 70}, {7, 70, 1},
                                   {130, 8, 8},  {2, 17, 129}};
  for (const auto& sh : shapes)
    for (int rep = 0; rep < 3; ++rep) {
      const std::size_t count = sh[0], rows = sh[1], cols = sh[2];
      std::vector<float> h;
      for (std::size_t k = 0; k < count; ++k) {
        const auto m = gen.floats(rows * cols, true);
        h.insert(h.end(), m.begin(), m.end());
      }
      std::vector<float> base_c, base_s, c, s;
      decode(h, count, rows, cols, base_c, base_s, gv::Isa::scalar);
      for (gv::Isa isa : gv::supported_isas()) {
        decode(h, count, rows, cols, c, s, isa);
        for (std::size_t i = 0; i < c.size(); ++i) CHECK_BITS(c[i], base_c[i]);
        for (std::size_t i = 0; i < s.size(); ++i) CHECK_BITS(s[i], base_s[i]);
      }
      for (std::size_t k = 0; k < count; ++k) {
        float xy[2], score;
        reference(&h[k * rows * cols], rows, cols, xy, &score);
        CHECK_BITS(base_c[2 * k], xy[0]);
        CHECK_BITS(base_c[2 * k + 1], xy[1]);
        CHECK_BITS(base_s[k], score);
      }
    }
}
