// The program bench/arm/count_instructions.sh runs under qemu with the instruction counter:
//
//   count_harness CASE REPS [LANDMARKS [LENGTH]]
//
// builds one face of input for CASE (68 landmarks, or LANDMARKS; vectors of 64 and 64 x 64
// heatmaps, or LENGTH: 48 at 192 px input), decodes it (or copies it) once
// to warm up (static initialisation, lazy binding), then REPS more times, and prints a checksum
// of the last output.
// Running it with REPS = R and 2R and subtracting leaves exactly R faces' instructions: start-up,
// input generation and the warm-up cancel out. Every repetition does the same work on the same
// bytes, so the difference divides by R.
//
// Inputs are what a network gives (as gv-bench's): per landmark a Gaussian bump (sigma 2, height
// 1.2, centre inside) plus noise of +-0.03; heatmaps the 2-D bump. int8 is
// round(v / 0.01) - 100, clamped. The generator is a fixed LCG, so every run sees the same bytes.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "gv/decode.hpp"

namespace {

constexpr float kScale = 0.01f;
constexpr std::int32_t kZeroPoint = -100;

// Keeps the compiler from dropping or hoisting work whose result is not otherwise used.
inline void clobber(const void* p) { asm volatile("" : : "r"(p) : "memory"); }

struct Lcg {
  std::uint64_t s = 0x9E3779B97F4A7C15u;
  double uniform() {  // [0, 1)
    s = s * 6364136223846793005u + 1442695040888963407u;
    return static_cast<double>(s >> 11) * (1.0 / 9007199254740992.0);
  }
};

// A sampled Gaussian bump of height 1.2 around a centre inside [4, n - 5].
std::vector<double> bump(Lcg& rng, std::size_t n) {
  const double centre = 4.0 + rng.uniform() * (n - 9.0);
  std::vector<double> v(n);
  for (std::size_t j = 0; j < n; ++j) v[j] = 1.2 * std::exp(-0.125 * (j - centre) * (j - centre));
  return v;
}

float noisy(Lcg& rng, double v) { return static_cast<float>(v + 0.06 * (rng.uniform() - 0.5)); }

// One face of GV vectors: x-vectors (landmarks x len) then y-vectors, split layout.
std::vector<float> gv_face(Lcg& rng, std::size_t landmarks, std::size_t len) {
  std::vector<float> out;
  for (std::size_t k = 0; k < 2 * landmarks; ++k)
    for (double v : bump(rng, len)) out.push_back(noisy(rng, v));
  return out;
}

// One face of heatmaps (landmarks x len x len): the outer product of two bumps, plus noise.
std::vector<float> heatmap_face(Lcg& rng, std::size_t landmarks, std::size_t len) {
  std::vector<float> out;
  out.reserve(landmarks * len * len);
  for (std::size_t k = 0; k < landmarks; ++k) {
    const std::vector<double> gy = bump(rng, len), gx = bump(rng, len);
    for (double a : gy)
      for (double b : gx) out.push_back(noisy(rng, a * b / 1.2));
  }
  return out;
}

std::vector<std::int8_t> quantise(const std::vector<float>& v) {
  std::vector<std::int8_t> q(v.size());
  for (std::size_t i = 0; i < v.size(); ++i)
    q[i] = static_cast<std::int8_t>(
        std::clamp(std::lround(v[i] / kScale) + kZeroPoint, -128L, 127L));
  return q;
}

// Calls op() 1 + reps times; returns a checksum of `out` (n floats) after the last call.
template <class Op>
double repeat(std::size_t reps, const float* out, std::size_t n, Op op) {
  for (std::size_t i = 0; i <= reps; ++i) {
    op();
    clobber(out);
  }
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += out[i];
  return sum;
}

template <class T>
double copy(std::size_t reps, const std::vector<T>& in) {
  std::vector<float> dst(in.size() * sizeof(T) / sizeof(float) + 16);
  // 64-byte aligned like gv-bench's memcpy target, so a misaligned destination costs nothing.
  float* d = dst.data() + (64 - reinterpret_cast<std::uintptr_t>(dst.data()) % 64) / sizeof(float);
  return repeat(reps, d, 1, [&] { std::memcpy(d, in.data(), in.size() * sizeof(T)); });
}

int usage() {
  std::fprintf(stderr,
               "usage: count_harness {gv,heatmap,memcpy_gv,memcpy_heatmap}_{fp32,int8} REPS "
               "[LANDMARKS [LENGTH]]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 5) return usage();
  const std::string what = argv[1];
  char* end = nullptr;
  const unsigned long reps = std::strtoul(argv[2], &end, 10);
  if (*end != '\0') return usage();
  const unsigned long landmarks = argc >= 4 ? std::strtoul(argv[3], &end, 10) : 68;
  if (*end != '\0' || landmarks == 0) return usage();
  const unsigned long len = argc == 5 ? std::strtoul(argv[4], &end, 10) : 64;
  if (*end != '\0' || len < 10) return usage();  // bumps are centred in [4, len - 5]
  const bool int8 = what.size() > 5 && what.compare(what.size() - 5, 5, "_int8") == 0;
  if (!int8 && !(what.size() > 5 && what.compare(what.size() - 5, 5, "_fp32") == 0))
    return usage();
  const std::string kind = what.substr(0, what.size() - 5);
  const gv::Quant quant{kScale, kZeroPoint};
  const gv::VectorParams params{};  // the paper's: Beyond Box on, tau = sigma = 2, quarter shift

  Lcg rng;
  const bool heatmap = kind == "heatmap" || kind == "memcpy_heatmap";
  const std::vector<float> face =
      heatmap ? heatmap_face(rng, landmarks, len) : gv_face(rng, landmarks, len);
  const std::vector<std::int8_t> qface = int8 ? quantise(face) : std::vector<std::int8_t>{};
  std::vector<float> coords(2 * landmarks), scores(landmarks);
  double sum = 0;
  if (kind == "gv") {
    const std::size_t y = landmarks * len;  // y-vectors follow the x-vectors
    sum = int8 ? repeat(reps, coords.data(), coords.size(),
                        [&] {
                          gv::decode_vectors(gv::split_vectors(qface.data(), qface.data() + y,
                                                               landmarks, len, len),
                                             quant, params, coords.data(), scores.data());
                        })
               : repeat(reps, coords.data(), coords.size(), [&] {
                   gv::decode_vectors(
                       gv::split_vectors(face.data(), face.data() + y, landmarks, len, len),
                       params, coords.data(), scores.data());
                 });
  } else if (kind == "heatmap") {
    sum = int8 ? repeat(reps, coords.data(), coords.size(),
                        [&] {
                          gv::decode_heatmaps(
                              gv::HeatmapBatch<std::int8_t>{qface.data(), landmarks, len, len},
                              quant, coords.data(), scores.data());
                        })
               : repeat(reps, coords.data(), coords.size(), [&] {
                   gv::decode_heatmaps(gv::HeatmapBatch<float>{face.data(), landmarks, len, len},
                                       coords.data(), scores.data());
                 });
  } else if (kind == "memcpy_gv" || kind == "memcpy_heatmap") {
    sum = int8 ? copy(reps, qface) : copy(reps, face);
  } else {
    return usage();
  }
  std::printf("%s isa=%s length=%lu elements=%zu checksum=%.6f\n", what.c_str(),
              gv::isa_name(gv::automatic_isa()), len, face.size(), sum);
  return 0;
}
