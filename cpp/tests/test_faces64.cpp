// GV vectors of exactly 64 elements with the quarter rule take a whole-batch decoder on NEON
// (blocks of 8 and 4 landmarks, end peaks and NaN rows redone one by one). Every path must equal
// the scalar one bit for bit for every peak position (first and last landmark included), batch
// size around the block sizes, layout and element type; and no path may read outside the input,
// checked with inaccessible pages right before and right after it.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "gv/decode.hpp"
#include "harness.hpp"
#include "reference.hpp"

#if defined(__unix__)
#include <sys/mman.h>
#include <unistd.h>
#define GV_TEST_FENCES 1
#endif

namespace {

constexpr std::size_t kW = 64;
constexpr gv::Quant kQuant{0.05f, 3};

// A row whose first maximum is at `at`: noise below it, sometimes the same maximum again later
// (in the same quad of four or further on), sometimes NaN, -0 against +0, or nothing but -inf.
void fill(gvref::Gen& gen, float* row, std::size_t at) {
  for (std::size_t j = 0; j < kW; ++j) row[j] = static_cast<float>(gen.uniform(-1.0, 1.0));
  row[at] = 1.5f;
  switch (gen.index(8)) {
    case 0:  // a later tie, often in the same quad
      row[at + gen.index(kW - at)] = 1.5f;
      break;
    case 1:  // NaN before or after the peak: never wins
      row[gen.index(kW)] = gvref::kNaN;
      row[at] = 1.5f;
      break;
    case 2:  // the maximum is zero: -0 first, +0 later
      for (std::size_t j = 0; j < kW; ++j) row[j] = -static_cast<float>(gen.uniform(0.1, 1.0));
      row[at] = -0.0f;
      row[at + gen.index(kW - at)] = 0.0f;
      break;
    case 3:
      if (gen.chance(0.3)) std::fill(row, row + kW, -gvref::kInf);
      break;
    default:
      break;
  }
}

template <class T>
void fill(gvref::Gen& gen, T* row, std::size_t at) {
  const int lo = std::numeric_limits<T>::min(), hi = std::numeric_limits<T>::max();
  const int top = static_cast<int>(lo + 1 + gen.index(hi - lo));  // lo < top <= hi
  for (std::size_t j = 0; j < kW; ++j) row[j] = static_cast<T>(lo + gen.index(top - lo));
  row[at] = static_cast<T>(top);
  if (gen.chance(0.3)) row[at + gen.index(kW - at)] = static_cast<T>(top);  // a later tie
}

// Peak positions: the first and last landmarks try the ends and the edge of the last quad.
std::size_t peak_at(gvref::Gen& gen, std::size_t k, std::size_t count) {
  static const std::size_t kEdges[] = {0, 1, 3, 4, 59, 60, 61, 62, 63};
  if (k == 0 || k + 1 == count) return kEdges[gen.index(9)];
  return gen.index(kW);
}

void decode(const gv::VectorBatch<float>& b, float* c, float* s, gv::Isa isa) {
  gv::decode_vectors(b, gv::VectorParams{}, c, s, isa);
}
template <class T>
void decode(const gv::VectorBatch<T>& b, float* c, float* s, gv::Isa isa) {
  gv::decode_vectors(b, kQuant, gv::VectorParams{}, c, s, isa);
}

// Every path against the scalar one on batch `b` (and the scalar one against the naive
// reference for floats).
template <class T>
void expect_paths_agree(const gv::VectorBatch<T>& b) {
  std::vector<float> want_c(2 * b.count), want_s(b.count);
  decode(b, want_c.data(), want_s.data(), gv::Isa::scalar);
  if constexpr (std::is_same<T, float>::value) {
    const gv::VectorParams p{};
    for (std::size_t k = 0; k < b.count; ++k) {
      CHECK_BITS(want_c[2 * k],
                 gvref::locate(b.x + k * b.x_stride, kW, p.beyond_box, p.tau, p.sigma));
      CHECK_BITS(want_c[2 * k + 1],
                 gvref::locate(b.y + k * b.y_stride, kW, p.beyond_box, p.tau, p.sigma));
    }
  }
  for (gv::Isa isa : gv::supported_isas()) {
    std::vector<float> c(2 * b.count), s(b.count);
    decode(b, c.data(), s.data(), isa);
    for (std::size_t i = 0; i < c.size(); ++i) CHECK_BITS(c[i], want_c[i]);
    for (std::size_t i = 0; i < s.size(); ++i) CHECK_BITS(s[i], want_s[i]);
  }
}

template <class T>
void check_sizes_and_layouts(std::uint64_t seed) {
  gvref::Gen gen(seed);
  const std::size_t counts[] = {1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 13, 15, 16, 17, 20, 67, 68, 69};
  for (std::size_t count : counts)
    for (int rep = 0; rep < 12; ++rep) {
      // Packed (x then y in one row of 128), split with stride 64, split with a longer stride.
      const std::size_t stride = rep % 3 == 2 ? kW + 5 : kW;
      std::vector<T> packed(count * 2 * kW), x(count * stride), y(count * stride);
      for (std::size_t k = 0; k < count; ++k) {
        fill(gen, &x[k * stride], peak_at(gen, k, count));
        fill(gen, &y[k * stride], peak_at(gen, k, count));
        std::memcpy(&packed[2 * k * kW], &x[k * stride], kW * sizeof(T));
        std::memcpy(&packed[(2 * k + 1) * kW], &y[k * stride], kW * sizeof(T));
      }
      expect_paths_agree(gv::packed_vectors(packed.data(), count, kW, kW));
      expect_paths_agree(gv::VectorBatch<T>{x.data(), y.data(), count, kW, kW, stride, stride});
    }
}

#ifdef GV_TEST_FENCES
// `bytes` of readable memory with an inaccessible page right before and right after it; the
// data starts at a page boundary (at_start) or ends at one.
class Fenced {
 public:
  Fenced(std::size_t bytes, bool at_start) {
    page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t inner = (bytes + page_ - 1) / page_ * page_;
    size_ = inner + 2 * page_;
    base_ = static_cast<unsigned char*>(
        mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (base_ == MAP_FAILED) {
      base_ = nullptr;
      return;
    }
    mprotect(base_, page_, PROT_NONE);
    mprotect(base_ + page_ + inner, page_, PROT_NONE);
    data_ = at_start ? base_ + page_ : base_ + page_ + inner - bytes;
  }
  ~Fenced() {
    if (base_ != nullptr) munmap(base_, size_);
  }
  Fenced(const Fenced&) = delete;
  Fenced& operator=(const Fenced&) = delete;
  void* data() const { return data_; }

 private:
  std::size_t page_ = 0, size_ = 0;
  unsigned char* base_ = nullptr;
  unsigned char* data_ = nullptr;
};

// The first landmark peaks at 0, the last at 60..63: the loads around those peaks are where a
// decoder could step outside. A read outside is a crash (SIGSEGV), not a failed check.
template <class T>
void check_fenced(std::uint64_t seed) {
  gvref::Gen gen(seed);
  for (std::size_t count : {4, 8, 12, 68})
    for (bool at_start : {true, false})
      for (std::size_t last_at : {60, 61, 62, 63}) {
        // packed: one region; split: x at the region's start or end, y in its own region.
        Fenced packed(count * 2 * kW * sizeof(T), at_start), x(count * kW * sizeof(T), at_start),
            y(count * kW * sizeof(T), at_start);
        auto* p = static_cast<T*>(packed.data());
        auto* px = static_cast<T*>(x.data());
        auto* py = static_cast<T*>(y.data());
        CHECK(p != nullptr && px != nullptr && py != nullptr);
        if (p == nullptr || px == nullptr || py == nullptr) return;
        for (std::size_t k = 0; k < count; ++k) {
          const std::size_t at = k == 0 ? 0 : k + 1 == count ? last_at : gen.index(kW);
          fill(gen, px + k * kW, at);
          fill(gen, py + k * kW, at);
          std::memcpy(p + 2 * k * kW, px + k * kW, kW * sizeof(T));
          std::memcpy(p + (2 * k + 1) * kW, py + k * kW, kW * sizeof(T));
        }
        expect_paths_agree(gv::packed_vectors(p, count, kW, kW));
        expect_paths_agree(gv::split_vectors(px, py, count, kW, kW));
      }
}
#endif

}  // namespace

GV_TEST(faces64_float_every_size_layout_and_peak) { check_sizes_and_layouts<float>(41); }
GV_TEST(faces64_int8_every_size_layout_and_peak) { check_sizes_and_layouts<std::int8_t>(42); }
GV_TEST(faces64_uint8_every_size_layout_and_peak) { check_sizes_and_layouts<std::uint8_t>(43); }

#ifdef GV_TEST_FENCES
GV_TEST(faces64_reads_stay_inside_the_input) {
  check_fenced<float>(44);
  check_fenced<std::int8_t>(45);
  check_fenced<std::uint8_t>(46);
}
#endif
