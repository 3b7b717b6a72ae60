// GV float decoding: known answers for each rule, every path bit-identical to the portable one,
// the naive reference transcription, packed = split, and batches = one by one.
#include <cmath>
#include <cstdint>
#include <vector>

#include "gv/decode.hpp"
#include "harness.hpp"
#include "reference.hpp"
#include "rules.hpp"

namespace {

struct Out {
  std::vector<float> coords;
  std::vector<float> scores;
};

Out decode_split(const std::vector<float>& x, const std::vector<float>& y, std::size_t count,
                 std::size_t w, std::size_t h, const gv::VectorParams& p,
                 gv::Isa isa = gv::Isa::automatic) {
  Out o{std::vector<float>(2 * count), std::vector<float>(count)};
  gv::decode_vectors(gv::split_vectors(x.data(), y.data(), count, w, h), p, o.coords.data(),
                     o.scores.data(), isa);
  return o;
}

// One landmark whose x-vector is v and whose y-vector is a clean interior peak.
float loc_x(const std::vector<float>& v, const gv::VectorParams& p = {}) {
  std::vector<float> y = {0.0f, 1.0f, 0.0f};
  return decode_split(v, y, 1, v.size(), y.size(), p).coords[0];
}

void expect_same(const Out& a, const Out& b) {
  CHECK_EQ(a.coords.size(), b.coords.size());
  for (std::size_t i = 0; i < a.coords.size(); ++i) CHECK_BITS(a.coords[i], b.coords[i]);
  for (std::size_t i = 0; i < a.scores.size(); ++i) CHECK_BITS(a.scores[i], b.scores[i]);
}

}  // namespace

GV_TEST(vectors_interior_quarter_shift) {
  CHECK_BITS(loc_x({0.1f, 0.5f, 1.0f, 0.7f, 0.1f}), 2.25f);   // right neighbour larger
  CHECK_BITS(loc_x({0.1f, 0.7f, 1.0f, 0.5f, 0.1f}), 1.75f);   // left neighbour larger
  CHECK_BITS(loc_x({0.1f, 0.5f, 1.0f, 0.5f, 0.1f}), 2.0f);    // equal: no shift
  CHECK_BITS(loc_x({0.1f, gvref::kNaN, 1.0f, 0.5f}), 2.0f);   // NaN neighbour: no shift
}

GV_TEST(vectors_parabola_recovers_a_sampled_vertex) {
  gv::VectorParams p{};
  p.subpixel = gv::Subpixel::parabola;
  for (double centre : {20.3, 20.7, 5.25, 33.1}) {
    std::vector<float> v(64);
    for (std::size_t j = 0; j < v.size(); ++j)
      v[j] = static_cast<float>(10.0 - (j - centre) * (j - centre));
    CHECK_BITS(loc_x(v, p), static_cast<float>(centre));
  }
  // Both neighbours equal: the vertex is the peak itself. One neighbour equal to the peak
  // cannot be on its left (the first maximum wins), so on the right it gives +0.5 exactly.
  CHECK_BITS(loc_x({0.1f, 0.5f, 1.0f, 0.5f, 0.1f}, p), 2.0f);
  CHECK_BITS(loc_x({0.0f, 1.0f, 1.0f}, p), 1.5f);
  // End peaks keep their rules: quarter shift against g1, or Beyond Box.
  const gv::VectorParams q{};
  for (bool bb : {false, true}) {
    gv::VectorParams pb{bb, 2.0, 2.0, gv::Subpixel::parabola};
    gv::VectorParams qb{bb, 2.0, 2.0, gv::Subpixel::quarter};
    CHECK_BITS(loc_x({1.0f, 0.9f, 0.1f, 0.0f}, pb), loc_x({1.0f, 0.9f, 0.1f, 0.0f}, qb));
    CHECK_BITS(loc_x({0.0f, 0.1f, 0.5f, 1.0f}, pb), loc_x({0.0f, 0.1f, 0.5f, 1.0f}, qb));
  }
  CHECK_BITS(loc_x({0.1f, 0.5f, 1.0f, 0.7f, 0.1f}, q), 2.25f);  // the default is still quarter
}

GV_TEST(vectors_parabola_flat_or_upward_gives_no_offset) {
  // The rule itself: no downward bend (flat, upward, NaN) or a vertex that is not finite: 0.
  CHECK(gv::detail::parabola_offset(1.0, 1.0, 1.0) == 0.0);
  CHECK(gv::detail::parabola_offset(2.0, 1.0, 3.0) == 0.0);
  CHECK(gv::detail::parabola_offset(0.0, 1.0, 2.0) == 0.0);
  CHECK(gv::detail::parabola_offset(std::nan(""), 1.0, 0.5) == 0.0);
  CHECK(gv::detail::parabola_offset(0.0, INFINITY, INFINITY) == 0.0);
  CHECK(gv::detail::parabola_offset(-INFINITY, 1.0, 0.0) == 0.0);
  CHECK(gv::detail::parabola_offset(0.0, 1.0, 0.5) == 0.5 * -0.5 / -1.5);
  // Through the decoder: a NaN neighbour, an infinite peak with an infinite neighbour, and a
  // peak next to -inf all leave the peak where it is.
  gv::VectorParams p{};
  p.subpixel = gv::Subpixel::parabola;
  CHECK_BITS(loc_x({0.1f, gvref::kNaN, 1.0f, 0.5f}, p), 2.0f);
  CHECK_BITS(loc_x({0.0f, gvref::kInf, gvref::kInf, 0.0f}, p), 1.0f);
  CHECK_BITS(loc_x({0.0f, -gvref::kInf, 1.0f, 0.5f}, p), 2.0f);
}

GV_TEST(vectors_end_element_uses_g1) {
  const double g1 = std::exp(-1.0 / 8.0);  // sigma = 2
  const gv::VectorParams off{false, 2.0, 2.0};
  const float above = static_cast<float>(g1 + 0.01);
  const float below = static_cast<float>(g1 - 0.01);
  CHECK_BITS(loc_x({1.0f, above, 0.1f, 0.0f}, off), 0.25f);
  CHECK_BITS(loc_x({1.0f, below, 0.1f, 0.0f}, off), -0.25f);
  CHECK_BITS(loc_x({0.0f, 0.1f, above, 1.0f}, off), 2.75f);
  CHECK_BITS(loc_x({0.0f, 0.1f, below, 1.0f}, off), 3.25f);
  // Beyond Box on, but the peak is >= tau: inside the crop, same rule.
  const gv::VectorParams on{true, 0.9, 2.0};
  CHECK_BITS(loc_x({1.0f, above, 0.1f, 0.0f}, on), 0.25f);
}

GV_TEST(vectors_beyond_box_distance) {
  const double sigma = 2.0;
  const double tau = 2.0;
  const gv::VectorParams on{true, tau, sigma};
  for (double d : {0.5, 1.0, 2.5, 4.0, 5.9}) {
    const float peak = static_cast<float>(tau * std::exp(-d * d / (2 * sigma * sigma)));
    const float got_first = loc_x({peak, peak * 0.5f, 0.0f, 0.0f, 0.0f, 0.0f}, on);
    const float got_last = loc_x({0.0f, 0.0f, 0.0f, 0.0f, peak * 0.5f, peak}, on);
    CHECK(std::fabs(got_first + d) < 1e-5);
    CHECK(std::fabs(got_last - (5 + d)) < 1e-5);
  }
  // Peaks at or below zero, and tiny peaks, give the support limit 3 sigma.
  CHECK_BITS(loc_x({0.0f, -1.0f, -1.0f}, on), -6.0f);
  CHECK_BITS(loc_x({-1.0f, -1.0f, -0.5f}, on), 8.0f);
  CHECK_BITS(loc_x({1e-30f, 0.0f, 0.0f}, on), -6.0f);
  // All NaN: argmax 0, the peak is NaN (not >= tau), d = 3 sigma; the score is NaN.
  std::vector<float> x(64, gvref::kNaN);
  std::vector<float> y = {0.0f, 1.0f, 0.0f};
  const Out o = decode_split(x, y, 1, 64, 3, on);
  CHECK_BITS(o.coords[0], -6.0f);
  CHECK(std::isnan(o.scores[0]));
}

GV_TEST(vectors_score_is_min_of_peaks) {
  std::vector<float> x = {0.0f, 0.9f, 0.1f};
  std::vector<float> y = {0.0f, 0.3f, 0.8f, 0.1f};
  CHECK_BITS(decode_split(x, y, 1, 3, 4, {}).scores[0], 0.8f);
  CHECK_BITS(decode_split(y, x, 1, 4, 3, {}).scores[0], 0.8f);
}

namespace {

void check_all_paths_match_reference(gv::Subpixel subpixel, std::uint64_t seed) {
  gvref::Gen gen(seed);
  const std::size_t sizes[][3] = {{68, 64, 64}, {300, 64, 64}, {5, 2, 2},  {17, 3, 130},
                                  {40, 65, 63}, {2, 200, 7},   {129, 128, 128}};
  for (const auto& s : sizes)
    for (int rep = 0; rep < 6; ++rep) {
      const std::size_t count = s[0], w = s[1], h = s[2];
      std::vector<float> x, y;
      for (std::size_t k = 0; k < count; ++k) {
        const auto vx = gen.floats(w, true);
        const auto vy = gen.floats(h, true);
        x.insert(x.end(), vx.begin(), vx.end());
        y.insert(y.end(), vy.begin(), vy.end());
      }
      const gv::VectorParams p{gen.chance(0.7), gen.uniform(0.2, 3.0), gen.uniform(0.5, 4.0),
                               subpixel};
      const bool para = subpixel == gv::Subpixel::parabola;
      const Out base = decode_split(x, y, count, w, h, p, gv::Isa::scalar);
      for (gv::Isa isa : gv::supported_isas()) expect_same(decode_split(x, y, count, w, h, p, isa), base);
      for (std::size_t k = 0; k < count; ++k) {
        CHECK_BITS(base.coords[2 * k],
                   gvref::locate(&x[k * w], w, p.beyond_box, p.tau, p.sigma, para));
        CHECK_BITS(base.coords[2 * k + 1],
                   gvref::locate(&y[k * h], h, p.beyond_box, p.tau, p.sigma, para));
      }
    }
}

}  // namespace

GV_TEST(vectors_all_paths_bit_identical_and_match_reference) {
  check_all_paths_match_reference(gv::Subpixel::quarter, 7);
}

GV_TEST(vectors_parabola_all_paths_bit_identical_and_match_reference) {
  check_all_paths_match_reference(gv::Subpixel::parabola, 8);
}

namespace {

void check_packed_and_single(gv::Subpixel subpixel, std::uint64_t seed) {
  gvref::Gen gen(seed);
  const std::size_t count = 2 * 68 + 3, w = 64, h = 48;
  std::vector<float> x, y, packed;
  for (std::size_t k = 0; k < count; ++k) {
    const auto vx = gen.floats(w, true);
    const auto vy = gen.floats(h, true);
    x.insert(x.end(), vx.begin(), vx.end());
    y.insert(y.end(), vy.begin(), vy.end());
    packed.insert(packed.end(), vx.begin(), vx.end());
    packed.insert(packed.end(), vy.begin(), vy.end());
  }
  gv::VectorParams p{};
  p.subpixel = subpixel;
  const Out split = decode_split(x, y, count, w, h, p);
  for (gv::Isa isa : gv::supported_isas()) {
    Out pk{std::vector<float>(2 * count), std::vector<float>(count)};
    gv::decode_vectors(gv::packed_vectors(packed.data(), count, w, h), p, pk.coords.data(),
                       pk.scores.data(), isa);
    expect_same(pk, split);
  }
  for (std::size_t k = 0; k < count; ++k) {
    std::vector<float> xk(x.begin() + k * w, x.begin() + (k + 1) * w);
    std::vector<float> yk(y.begin() + k * h, y.begin() + (k + 1) * h);
    const Out one = decode_split(xk, yk, 1, w, h, p);
    CHECK_BITS(one.coords[0], split.coords[2 * k]);
    CHECK_BITS(one.coords[1], split.coords[2 * k + 1]);
    CHECK_BITS(one.scores[0], split.scores[k]);
  }
}

}  // namespace

GV_TEST(vectors_packed_equals_split_and_batch_equals_single) {
  check_packed_and_single(gv::Subpixel::quarter, 11);
  check_packed_and_single(gv::Subpixel::parabola, 12);
}

GV_TEST(vectors_empty_batch_is_a_no_op) {
  gv::decode_vectors(gv::split_vectors<float>(nullptr, nullptr, 0, 64, 64), {}, nullptr, nullptr);
  CHECK(true);
}
