// Invalid arguments throw std::invalid_argument naming the problem, before writing any output.
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "gv/decode.hpp"
#include "harness.hpp"

namespace {
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();
}  // namespace

GV_TEST(errors_bad_parameters) {
  std::vector<float> v(8, 0.0f), c(2, 0.0f), s(1, 0.0f);
  const auto batch = gv::split_vectors(v.data(), v.data(), 1, 4, 4);
  for (double bad : {0.0, -1.0, kNaN, kInf}) {
    CHECK_THROWS(gv::decode_vectors(batch, {true, 2.0, bad}, c.data(), s.data()), "sigma");
    CHECK_THROWS(gv::decode_vectors(batch, {true, bad, 2.0}, c.data(), s.data()), "tau");
  }
  const auto unknown = static_cast<gv::Subpixel>(7);
  CHECK_THROWS(gv::decode_vectors(batch, {true, 2.0, 2.0, unknown}, c.data(), s.data()),
               "subpixel");
  const gv::HeatmapBatch<float> maps{v.data(), 1, 2, 4};
  CHECK_THROWS(gv::decode_heatmaps(maps, c.data(), s.data(), unknown), "subpixel");
}

GV_TEST(errors_bad_shapes_and_pointers) {
  std::vector<float> v(8, 0.0f), c(2, 0.0f), s(1, 0.0f);
  const gv::VectorParams p{};
  CHECK_THROWS(gv::decode_vectors(gv::split_vectors(v.data(), v.data(), 1, 1, 4), p, c.data(),
                                  s.data()),
               "length >= 2");
  CHECK_THROWS(gv::decode_vectors(gv::VectorBatch<float>{v.data(), v.data(), 1, 4, 4, 3, 4}, p,
                                  c.data(), s.data()),
               "stride");
  CHECK_THROWS(gv::decode_vectors(gv::split_vectors<float>(nullptr, v.data(), 1, 4, 4), p,
                                  c.data(), s.data()),
               "null");
  CHECK_THROWS(gv::decode_heatmaps(gv::HeatmapBatch<float>{v.data(), 1, 0, 4}, c.data(),
                                   s.data()),
               "rows, cols >= 1");
  const std::size_t huge = std::numeric_limits<std::size_t>::max() / 2;
  CHECK_THROWS(gv::decode_heatmaps(gv::HeatmapBatch<float>{v.data(), 1, huge, 4}, c.data(),
                                   s.data()),
               "overflows");
  CHECK_THROWS(gv::argmax(v.data(), 0), "empty");
}

GV_TEST(errors_bad_quantisation) {
  std::vector<std::int8_t> q(8, 0);
  std::vector<std::uint8_t> u(8, 0);
  std::vector<float> c(2, 0.0f), s(1, 0.0f);
  const auto bq = gv::split_vectors(q.data(), q.data(), 1, 4, 4);
  const auto bu = gv::split_vectors(u.data(), u.data(), 1, 4, 4);
  for (float bad : {0.0f, -0.5f, 1e-40f, std::numeric_limits<float>::infinity(),
                    std::numeric_limits<float>::quiet_NaN(), 1e38f}) {
    CHECK_THROWS(gv::decode_vectors(bq, gv::Quant{bad, 0}, {}, c.data(), s.data()), "scale");
    CHECK_THROWS(gv::decode_heatmaps(gv::HeatmapBatch<std::uint8_t>{u.data(), 1, 2, 4},
                                     gv::Quant{bad, 0}, c.data(), s.data()),
                 "scale");
  }
  CHECK_THROWS(gv::decode_vectors(bq, gv::Quant{0.1f, 128}, {}, c.data(), s.data()), "zero point");
  CHECK_THROWS(gv::decode_vectors(bu, gv::Quant{0.1f, -1}, {}, c.data(), s.data()), "zero point");
  CHECK_THROWS(gv::decode_vectors(bu, gv::Quant{0.1f, 256}, {}, c.data(), s.data()), "zero point");
}

GV_TEST(errors_outputs_untouched_on_error) {
  std::vector<float> v(8, 1.0f), c(2, -7.0f), s(1, -7.0f);
  CHECK_THROWS(gv::decode_vectors(gv::split_vectors(v.data(), v.data(), 1, 4, 4),
                                  {true, 2.0, -1.0}, c.data(), s.data()),
               "sigma");
  CHECK_BITS(c[0], -7.0f);
  CHECK_BITS(s[0], -7.0f);
}

GV_TEST(errors_isa_names) {
  CHECK(gv::parse_isa("scalar") == gv::Isa::scalar);
  CHECK(gv::parse_isa("neon") == gv::Isa::neon);
  CHECK(gv::parse_isa("avx512") == gv::Isa::avx512);
  CHECK_THROWS(gv::parse_isa("mmx"), "unknown isa");
  CHECK(gv::isa_supported(gv::Isa::scalar));
  std::vector<float> v(4, 0.0f);
  for (gv::Isa isa : {gv::Isa::sse41, gv::Isa::avx2, gv::Isa::avx512, gv::Isa::neon})
    if (!gv::isa_supported(isa)) CHECK_THROWS(gv::argmax(v.data(), 4, isa), "not available");
}
