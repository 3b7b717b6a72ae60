// Every argmax path returns the naive first-maximum index, on every length, alignment and kind
// of data (ties, NaN, +-inf, -0, all-NaN, all-lowest).
#include <cstdint>
#include <vector>

#include "gv/decode.hpp"
#include "harness.hpp"
#include "reference.hpp"

namespace {

const std::size_t kLengths[] = {1,  2,  3,  7,  15, 16, 17,  31,  32,  33,  63,   64,  65,
                                68, 96, 127, 128, 129, 191, 192, 200, 255, 256, 257, 4096, 4099};

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

// Rows of exactly one chunk (64: the GV vector length) take one-pass fast paths on x86; every
// special arrangement must still give the naive answer.
GV_TEST(argmax_one_chunk_special_cases_match_naive) {
  const float nan = gvref::kNaN;
  const float inf = gvref::kInf;
  std::vector<std::vector<float>> cases;
  cases.emplace_back(64, -inf);                 // nothing beats -inf: 0
  cases.emplace_back(64, nan);                  // all NaN: 0
  cases.emplace_back(64, 1.0f);                 // all equal: 0
  for (std::size_t at : {0u, 1u, 7u, 8u, 31u, 32u, 33u, 62u, 63u}) {
    std::vector<float> v(64, 0.25f);
    v[at] = 2.0f;
    cases.push_back(v);                         // one peak anywhere
    v[at] = nan;
    cases.push_back(v);                         // a NaN anywhere: the tree bails out
    v.assign(64, -inf);
    v[at] = nan;
    cases.push_back(v);
    v[at] = -3e38f;
    cases.push_back(v);
    v.assign(64, 0.5f);
    v[at] = 0.75f;
    v[63 - at] = 0.75f;
    cases.push_back(v);                         // a tie: the first
    v[at] = inf;
    cases.push_back(v);
  }
  for (const auto& v : cases) {
    const std::size_t want = gvref::argmax(v.data(), v.size());
    for (gv::Isa isa : gv::supported_isas()) CHECK_EQ(gv::argmax(v.data(), v.size(), isa), want);
  }
  for (std::size_t at : {0u, 15u, 16u, 47u, 48u, 63u}) {
    std::vector<std::int8_t> s(64, -128);
    std::vector<std::uint8_t> u(64, 0);
    for (gv::Isa isa : gv::supported_isas()) {
      CHECK_EQ(gv::argmax(s.data(), 64, isa), 0u);
      CHECK_EQ(gv::argmax(u.data(), 64, isa), 0u);
    }
    s[at] = 127;
    u[at] = 255;
    s[63 - at] = 127;
    u[63 - at] = 255;
    const std::size_t first = at < 63 - at ? at : 63 - at;
    for (gv::Isa isa : gv::supported_isas()) {
      CHECK_EQ(gv::argmax(s.data(), 64, isa), first);
      CHECK_EQ(gv::argmax(u.data(), 64, isa), first);
    }
  }
}
