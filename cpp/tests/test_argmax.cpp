// Every argmax path returns the naive first-maximum index, on every length, alignment and kind
// of data (ties, NaN, +-inf, -0, all-NaN, all-lowest).
#include <algorithm>
#include <cstdint>
#include <vector>

#include "gv/decode.hpp"
#include "harness.hpp"
#include "reference.hpp"

namespace {

const std::size_t kLengths[] = {1,   2,   3,   7,   15,  16,  17,  24,  31,   32,  33,  40,
                                47,  48,  49,  56,  63,  64,  65,  68,  72,   80,  88,  96,
                                104, 112, 120, 127, 128, 129, 191, 192, 200,  255, 256, 257,
                                2304, 4096, 4099};

template <class T, class Make>
void check_all_paths(Make make, int seeds) {
  gvref::Gen gen(1234);
  for (std::size_t n : kLengths)
    for (int s = 0; s < seeds; ++s) {
      // One spare element in front so that odd offsets test unaligned loads.
      std::vector<T> buf = make(gen, n + 1);
      const std::size_t offset = gen.index(2);
      const T* v = buf.data() + offset;
      const std::size_t want = gvref::argmax(v, n);
      for (gv::Isa isa : gv::supported_isas()) CHECK_EQ(gv::argmax(v, n, isa), want);
    }
}

}  // namespace

GV_TEST(argmax_float_all_paths_match_naive) {
  check_all_paths<float>([](gvref::Gen& g, std::size_t n) { return g.floats(n, true); }, 40);
}

GV_TEST(argmax_int8_all_paths_match_naive) {
  check_all_paths<std::int8_t>([](gvref::Gen& g, std::size_t n) { return g.ints<std::int8_t>(n); },
                               40);
}

GV_TEST(argmax_uint8_all_paths_match_naive) {
  check_all_paths<std::uint8_t>(
      [](gvref::Gen& g, std::size_t n) { return g.ints<std::uint8_t>(n); }, 40);
}

GV_TEST(argmax_nan_never_wins_and_first_tie_wins) {
  const float nan = gvref::kNaN;
  const float inf = gvref::kInf;
  for (gv::Isa isa : gv::supported_isas()) {
    std::vector<float> v(130, 0.5f);
    CHECK_EQ(gv::argmax(v.data(), v.size(), isa), 0u);  // all equal: the first
    v[0] = nan;
    CHECK_EQ(gv::argmax(v.data(), v.size(), isa), 1u);  // NaN first does not win
    v[70] = 0.75f;
    v[100] = 0.75f;
    CHECK_EQ(gv::argmax(v.data(), v.size(), isa), 70u);  // first of a tie, across chunks
    v[129] = inf;
    CHECK_EQ(gv::argmax(v.data(), v.size(), isa), 129u);  // in the tail
    v.assign(130, nan);
    CHECK_EQ(gv::argmax(v.data(), v.size(), isa), 0u);  // all NaN: 0
    v.assign(130, -inf);
    v[5] = nan;
    CHECK_EQ(gv::argmax(v.data(), v.size(), isa), 0u);  // nothing beats -inf: 0
    v[99] = -3e38f;
    CHECK_EQ(gv::argmax(v.data(), v.size(), isa), 99u);
    v.assign(64, -0.0f);
    v[40] = 0.0f;
    CHECK_EQ(gv::argmax(v.data(), v.size(), isa), 0u);  // -0 == +0: the first
  }
}

// Short rows (GV vectors: 64 at 256 px input, 48 at 192 px, 16 to 128 from 64 to 512 px, and odd
// lengths) take one-pass paths, whose last register overlaps the one before it when its width
// does not divide the length; every special arrangement must still give the naive answer: peaks
// and ties at the ends, at register edges and in the overlap.
GV_TEST(argmax_short_row_special_cases_match_naive) {
  const float nan = gvref::kNaN;
  const float inf = gvref::kInf;
  for (std::size_t n : {16u, 17u, 24u, 33u, 40u, 47u, 48u, 49u, 56u, 63u, 64u, 65u, 72u, 80u,
                        96u, 100u, 112u, 127u, 128u}) {
    std::vector<std::size_t> spots = {0, 1, 3, 4, 7, 8, 15, 16, 31, 32, 33, 47, 48, 63, 64, 65,
                                      n - 17, n - 16, n - 9, n - 8, n - 5, n - 4, n - 2, n - 1};
    spots.erase(std::remove_if(spots.begin(), spots.end(), [n](std::size_t a) { return a >= n; }),
                spots.end());
    std::vector<std::vector<float>> cases;
    cases.emplace_back(n, -inf);  // nothing beats -inf: 0
    cases.emplace_back(n, nan);   // all NaN: 0
    cases.emplace_back(n, 1.0f);  // all equal: 0
    for (std::size_t at : spots) {
      std::vector<float> v(n, 0.25f);
      v[at] = 2.0f;
      cases.push_back(v);  // one peak anywhere
      v[at] = nan;
      cases.push_back(v);  // a NaN anywhere
      v.assign(n, -inf);
      v[at] = nan;
      cases.push_back(v);
      v[at] = -3e38f;
      cases.push_back(v);
      for (std::size_t later : spots) {
        if (later <= at) continue;
        v.assign(n, 0.5f);
        v[at] = 0.75f;
        v[later] = 0.75f;
        cases.push_back(v);  // a tie: the first
        v[at] = -0.0f;
        v[later] = 0.0f;
        std::fill(v.begin(), v.begin() + at, -1.0f);
        std::fill(v.begin() + at + 1, v.end(), -1.0f);
        v[later] = 0.0f;
        cases.push_back(v);  // -0 then +0: equal, the first
        v[later] = inf;
        cases.push_back(v);
      }
    }
    for (const auto& v : cases) {
      const std::size_t want = gvref::argmax(v.data(), v.size());
      for (gv::Isa isa : gv::supported_isas()) CHECK_EQ(gv::argmax(v.data(), n, isa), want);
    }
    for (std::size_t at : spots)
      for (std::size_t later : spots) {
        if (later < at) continue;
        std::vector<std::int8_t> s(n, -128);
        std::vector<std::uint8_t> u(n, 0);
        for (gv::Isa isa : gv::supported_isas()) {  // all the lowest value: 0
          CHECK_EQ(gv::argmax(s.data(), n, isa), 0u);
          CHECK_EQ(gv::argmax(u.data(), n, isa), 0u);
        }
        s[at] = 127;
        u[at] = 255;
        s[later] = 127;
        u[later] = 255;
        for (gv::Isa isa : gv::supported_isas()) {
          CHECK_EQ(gv::argmax(s.data(), n, isa), at);
          CHECK_EQ(gv::argmax(u.data(), n, isa), at);
        }
        s[at] = 126;
        u[at] = 254;
        for (gv::Isa isa : gv::supported_isas()) {  // a larger value later wins
          CHECK_EQ(gv::argmax(s.data(), n, isa), later);
          CHECK_EQ(gv::argmax(u.data(), n, isa), later);
        }
      }
  }
}
