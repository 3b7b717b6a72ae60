// GV vectors with the quarter rule take a whole-batch decoder on NEON for lengths that are a
// multiple of 4 from 16 to 128 (blocks of 8 and 4 landmarks, end peaks and NaN rows redone one
// by one), and short-row argmax kernels on every path. Every path must equal
// the scalar one bit for bit for every vector length (64 and 48, the 256 and 192 px models, each
// multiple of 4 from 16 to 128, odd lengths around them), peak position (first and last
// landmark, first and last quad included), tie, batch size around the block sizes, layout and
// element type; and no path may read outside the input, checked with inaccessible pages right
// before and right after it. Rows shorter than a path's loads read past their end (into the
// next row, or the padding of a longer stride): that padding holds values above every row's,
// which must never win.
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

constexpr gv::Quant kQuant{0.05f, 3};

// Every multiple of 4 from 16 to 128 and odd lengths around the shapes' limits (argmax paths
// only: the NEON face decoder takes multiples of 4).
const std::size_t kLengths[] = {16, 17, 20, 24, 28, 31, 32, 33, 36, 40, 44, 47, 48, 49,
                                52, 56, 60, 63, 64, 65, 68, 72, 76, 80, 84, 88, 92, 96,
                                100, 104, 108, 112, 116, 120, 124, 127, 128, 129};

// A row of n whose first maximum is at `at`: noise below it, sometimes the same maximum again
// later (in the same quad of four or further on), sometimes NaN, -0 against +0, or nothing but
// -inf.
void fill(gvref::Gen& gen, float* row, std::size_t n, std::size_t at) {
  for (std::size_t j = 0; j < n; ++j) row[j] = static_cast<float>(gen.uniform(-1.0, 1.0));
  row[at] = 1.5f;
  switch (gen.index(8)) {
    case 0:  // a later tie, often in the same quad
      row[at + gen.index(std::min<std::size_t>(n - at, gen.chance(0.5) ? 4 : n))] = 1.5f;
      break;
    case 1:  // NaN before or after the peak: never wins
      row[gen.index(n)] = gvref::kNaN;
      row[at] = 1.5f;
      break;
    case 2:  // the maximum is zero: -0 first, +0 later
      for (std::size_t j = 0; j < n; ++j) row[j] = -static_cast<float>(gen.uniform(0.1, 1.0));
      row[at] = -0.0f;
      row[at + gen.index(n - at)] = 0.0f;
      break;
    case 3:
      if (gen.chance(0.3)) std::fill(row, row + n, -gvref::kInf);
      break;
    default:
      break;
  }
}

template <class T>
void fill(gvref::Gen& gen, T* row, std::size_t n, std::size_t at) {
  const int lo = std::numeric_limits<T>::min(), hi = std::numeric_limits<T>::max();
  // lo < top <= hi; now and then the lowest value all along, or the top value next to the peak
  const int top = gen.chance(0.05) ? lo : static_cast<int>(lo + 1 + gen.index(hi - lo));
  for (std::size_t j = 0; j < n; ++j)
    row[j] = static_cast<T>(top == lo ? lo : lo + static_cast<int>(gen.index(top - lo)));
  row[at] = static_cast<T>(top);
  if (gen.chance(0.3))  // a later tie, often in the same quad
    row[at + gen.index(std::min<std::size_t>(n - at, gen.chance(0.5) ? 4 : n))] =
        static_cast<T>(top);
}

// What lies past a row's end in a longer stride: above every row's values (floats: +inf or NaN),
// so a load that reaches there must not let it win.
template <class T>
T above(gvref::Gen& gen) {
  if constexpr (std::is_same<T, float>::value) return gen.chance(0.5) ? gvref::kInf : gvref::kNaN;
  return std::numeric_limits<T>::max();
}

// Peak positions: the first and last landmarks try the ends and the edges of the first and last
// quads.
std::size_t peak_at(gvref::Gen& gen, std::size_t n, std::size_t k, std::size_t count) {
  if (k == 0 || k + 1 == count) {
    const std::size_t edges[] = {0, 1, 3, 4, n - 5, n - 4, n - 3, n - 2, n - 1};
    return edges[gen.index(9)];
  }
  return gen.index(n);
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
  const std::size_t n = b.w;
  std::vector<float> want_c(2 * b.count), want_s(b.count);
  decode(b, want_c.data(), want_s.data(), gv::Isa::scalar);
  if constexpr (std::is_same<T, float>::value) {
    const gv::VectorParams p{};
    for (std::size_t k = 0; k < b.count; ++k) {
      CHECK_BITS(want_c[2 * k],
                 gvref::locate(b.x + k * b.x_stride, n, p.beyond_box, p.tau, p.sigma));
      CHECK_BITS(want_c[2 * k + 1],
                 gvref::locate(b.y + k * b.y_stride, n, p.beyond_box, p.tau, p.sigma));
    }
  }
  for (gv::Isa isa : gv::supported_isas()) {
    std::vector<float> c(2 * b.count), s(b.count);
    decode(b, c.data(), s.data(), isa);
    for (std::size_t i = 0; i < c.size(); ++i) CHECK_BITS(c[i], want_c[i]);
    for (std::size_t i = 0; i < s.size(); ++i) CHECK_BITS(s[i], want_s[i]);
  }
}

// One length: batches of `counts` landmarks, `reps` times each, packed (x then y in one row of
// 2n), split with stride n, and split with a longer stride whose padding holds above().
template <class T>
void check_length(gvref::Gen& gen, std::size_t n, const std::vector<std::size_t>& counts,
                  int reps) {
  for (std::size_t count : counts)
    for (int rep = 0; rep < reps; ++rep) {
      const std::size_t stride = rep % 3 == 2 ? n + 5 + gen.index(60) : n;
      std::vector<T> packed(count * 2 * n), x(count * stride, above<T>(gen)),
          y(count * stride, above<T>(gen));
      for (std::size_t k = 0; k < count; ++k) {
        fill(gen, &x[k * stride], n, peak_at(gen, n, k, count));
        fill(gen, &y[k * stride], n, peak_at(gen, n, k, count));
        std::memcpy(&packed[2 * k * n], &x[k * stride], n * sizeof(T));
        std::memcpy(&packed[(2 * k + 1) * n], &y[k * stride], n * sizeof(T));
      }
      expect_paths_agree(gv::packed_vectors(packed.data(), count, n, n));
      expect_paths_agree(gv::VectorBatch<T>{x.data(), y.data(), count, n, n, stride, stride});
    }
}

// 64 and 48 (the shipped 256 px models and 192 px) at every batch size around the blocks of 8
// and 4; every other length at fewer.
template <class T>
void check_sizes_and_layouts(std::uint64_t seed) {
  gvref::Gen gen(seed);
  const std::vector<std::size_t> all = {1,  2,  3,  4,  5,  7,  8,  9,  11,
                                        12, 13, 15, 16, 17, 20, 67, 68, 69};
  const std::vector<std::size_t> some = {1, 4, 5, 8, 12, 13, 68};
  for (std::size_t n : kLengths)
    check_length<T>(gen, n, n == 64 || n == 48 ? all : some, n == 64 || n == 48 ? 12 : 3);
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

// The first landmark peaks at 0, the last in its last quad: the loads around those peaks, and a
// short row's loads past its end, are where a decoder could step outside. A read outside is a
// crash (SIGSEGV), not a failed check.
template <class T>
void check_fenced(std::uint64_t seed) {
  gvref::Gen gen(seed);
  for (std::size_t n : kLengths)
  for (std::size_t count : {4, 8, 12, 68})
    for (bool at_start : {true, false})
      for (std::size_t last_at : {n - 4, n - 3, n - 2, n - 1}) {
        // packed: one region; split: x at the region's start or end, y in its own region.
        Fenced packed(count * 2 * n * sizeof(T), at_start), x(count * n * sizeof(T), at_start),
            y(count * n * sizeof(T), at_start);
        auto* p = static_cast<T*>(packed.data());
        auto* px = static_cast<T*>(x.data());
        auto* py = static_cast<T*>(y.data());
        CHECK(p != nullptr && px != nullptr && py != nullptr);
        if (p == nullptr || px == nullptr || py == nullptr) return;
        for (std::size_t k = 0; k < count; ++k) {
          const std::size_t at = k == 0 ? 0 : k + 1 == count ? last_at : gen.index(n);
          fill(gen, px + k * n, n, at);
          fill(gen, py + k * n, n, at);
          std::memcpy(p + 2 * k * n, px + k * n, n * sizeof(T));
          std::memcpy(p + (2 * k + 1) * n, py + k * n, n * sizeof(T));
        }
        expect_paths_agree(gv::packed_vectors(p, count, n, n));
        expect_paths_agree(gv::split_vectors(px, py, count, n, n));
      }
}
#endif

}  // namespace

GV_TEST(faces_float_every_length_size_layout_and_peak) { check_sizes_and_layouts<float>(41); }
GV_TEST(faces_int8_every_length_size_layout_and_peak) {
  check_sizes_and_layouts<std::int8_t>(42);
}
GV_TEST(faces_uint8_every_length_size_layout_and_peak) {
  check_sizes_and_layouts<std::uint8_t>(43);
}

#ifdef GV_TEST_FENCES
GV_TEST(faces_reads_stay_inside_the_input) {
  check_fenced<float>(44);
  check_fenced<std::int8_t>(45);
  check_fenced<std::uint8_t>(46);
}
#endif
