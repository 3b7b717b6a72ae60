// Heatmap baseline decoding: known answers, every path bit-identical, and the naive reference,
// with the quarter shift and with the parabola vertex.
#include <cmath>
#include <cstdint>
#include <vector>

#include "gv/decode.hpp"
#include "harness.hpp"
#include "reference.hpp"

namespace {

void decode(const std::vector<float>& h, std::size_t count, std::size_t rows, std::size_t cols,
            std::vector<float>& c, std::vector<float>& s, gv::Isa isa = gv::Isa::automatic,
            gv::Subpixel subpixel = gv::Subpixel::quarter) {
  c.assign(2 * count, 0.0f);
  s.assign(count, 0.0f);
  gv::decode_heatmaps(gv::HeatmapBatch<float>{h.data(), count, rows, cols}, c.data(), s.data(),
                      subpixel, isa);
}

// Every path bit-identical to the portable one, and the portable one equal to the naive
// reference (gvref::heatmap), with the given sub-pixel rule.
void check_all_paths_match_reference(gv::Subpixel subpixel, std::uint64_t seed) {
  gvref::Gen gen(seed);
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
      decode(h, count, rows, cols, base_c, base_s, gv::Isa::scalar, subpixel);
      for (gv::Isa isa : gv::supported_isas()) {
        decode(h, count, rows, cols, c, s, isa, subpixel);
        for (std::size_t i = 0; i < c.size(); ++i) CHECK_BITS(c[i], base_c[i]);
        for (std::size_t i = 0; i < s.size(); ++i) CHECK_BITS(s[i], base_s[i]);
      }
      std::vector<float> want_c, want_s;
      gvref::heatmaps(h.data(), count, rows, cols, subpixel == gv::Subpixel::parabola, want_c,
                      want_s);
      for (std::size_t i = 0; i < want_c.size(); ++i) CHECK_BITS(base_c[i], want_c[i]);
      for (std::size_t i = 0; i < want_s.size(); ++i) CHECK_BITS(base_s[i], want_s[i]);
    }
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
  edge[0 * 6 + 5] = 2.0f;  // top-right corner: no shift on either axis, with either rule
  edge[1 * 6 + 5] = 1.0f;
  edge[0 * 6 + 4] = 1.5f;
  for (gv::Subpixel rule : {gv::Subpixel::quarter, gv::Subpixel::parabola}) {
    decode(edge, 1, 5, 6, c, s, gv::Isa::automatic, rule);
    CHECK_BITS(c[0], 5.0f);
    CHECK_BITS(c[1], 0.0f);
  }
}

GV_TEST(heatmap_parabola_recovers_a_sampled_vertex) {
  // A paraboloid sampled on 40 x 64: the vertex is recovered on both axes, rounded to float32.
  const std::size_t rows = 40, cols = 64;
  const double cx = 20.3, cy = 7.6;
  std::vector<float> h(rows * cols), c, s;
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t k = 0; k < cols; ++k)
      h[r * cols + k] = static_cast<float>(10.0 - (k - cx) * (k - cx) - (r - cy) * (r - cy));
  for (gv::Isa isa : gv::supported_isas()) {
    decode(h, 1, rows, cols, c, s, isa, gv::Subpixel::parabola);
    CHECK_BITS(c[0], static_cast<float>(cx));
    CHECK_BITS(c[1], static_cast<float>(cy));
    CHECK_BITS(s[0], h[8 * cols + 20]);
  }
}

GV_TEST(heatmap_parabola_edges_and_flat_axes) {
  std::vector<float> h(5 * 6, 0.0f), c, s;
  h[2 * 6 + 3] = 1.0f;  // peak at row 2, col 3
  h[2 * 6 + 4] = 1.0f;  // right neighbour equal: x + 0.5
  h[1 * 6 + 3] = gvref::kNaN;  // NaN above: no bend on y, no shift
  decode(h, 1, 5, 6, c, s, gv::Isa::automatic, gv::Subpixel::parabola);
  CHECK_BITS(c[0], 3.5f);
  CHECK_BITS(c[1], 2.0f);
  std::vector<float> row(1 * 7, 0.0f);  // one row: y is an edge axis, x still interior
  row[3] = 1.0f;
  row[2] = 0.5f;
  decode(row, 1, 1, 7, c, s, gv::Isa::automatic, gv::Subpixel::parabola);
  CHECK_BITS(c[0], static_cast<float>(3 + 0.5 * 0.5 / -1.5));
  CHECK_BITS(c[1], 0.0f);
}

GV_TEST(heatmap_all_paths_bit_identical_and_match_reference) {
  check_all_paths_match_reference(gv::Subpixel::quarter, 5);
}

GV_TEST(heatmap_parabola_all_paths_bit_identical_and_match_reference) {
  check_all_paths_match_reference(gv::Subpixel::parabola, 6);
}
