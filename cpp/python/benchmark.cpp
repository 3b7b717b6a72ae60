// C++ timing loops for gv-bench (see benchmark.hpp). Each function runs its operation
// `iterations` times back to back with the GIL released and returns nanoseconds per iteration.
// Outputs go to buffers allocated before the clock starts; a compiler barrier after every
// iteration keeps the work from being hoisted or elided.
//
// With `pool` set, the array's first axis is a pool of P inputs and iteration i works on input
// i % P only. A pool larger than the last-level cache makes every input cold, as an NPU's
// output is when the CPU first reads it (it arrives in DRAM, not in the CPU's caches).
#include "benchmark.hpp"

#include <chrono>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "arrays.hpp"
#include "gv/decode.hpp"

namespace gvpy {
namespace {

inline void clobber(const void* p) {
#if defined(__GNUC__) || defined(__clang__)
  asm volatile("" : : "r"(p) : "memory");
#else
  static volatile const void* sink;
  sink = p;
#endif
}

/// Times op(slot) for slot = 0, 1, ..., pool - 1, 0, 1, ... (`iterations` calls in all).
template <class F>
double ns_per_iteration(std::size_t iterations, const void* out, F&& op, std::size_t pool = 1) {
  if (iterations == 0) throw py::value_error("iterations must be >= 1");
  py::gil_scoped_release nogil;
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t slot = 0;
  for (std::size_t i = 0; i < iterations; ++i) {
    op(slot);
    clobber(out);
    if (++slot == pool) slot = 0;
  }
  const auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(iterations);
}

/// The pool size: the first axis when pooling (it must leave at least `inner` axes), else 1.
std::size_t pool_size(const Tensor& t, bool pool, int inner) {
  if (!pool) return 1;
  if (t.ndim < inner + 1)
    throw py::value_error("with pool=True the array needs a leading pool axis");
  return t.dim(0);
}

double bench_memcpy(py::handle a, std::size_t iterations, bool pool) {
  const Tensor t = checked_tensor(a, "array", Accept::any, 1, 1);
  const std::size_t slots = pool_size(t, pool, 1);
  const std::size_t bytes = static_cast<std::size_t>(t.array.nbytes()) / slots;
  // A 64-byte aligned target, so the copy is not penalised by a misaligned destination.
  std::vector<unsigned char> buffer(bytes + 64);
  unsigned char* dst = buffer.data() + (64 - reinterpret_cast<std::uintptr_t>(buffer.data()) % 64);
  const auto* src = static_cast<const unsigned char*>(t.data);
  return ns_per_iteration(
      iterations, dst, [&](std::size_t i) { std::memcpy(dst, src + i * bytes, bytes); }, slots);
}

template <class T>
double time_quant_vectors(const Tensor& x, const Tensor& y, std::size_t n, std::size_t w,
                          std::size_t h, gv::Quant q, const gv::VectorParams& params,
                          std::size_t iterations, float* c, float* s, std::size_t slots) {
  const auto* xs = static_cast<const T*>(x.data);
  const auto* ys = static_cast<const T*>(y.data);
  return ns_per_iteration(
      iterations, c,
      [&](std::size_t i) {
        gv::decode_vectors(gv::split_vectors(xs + i * n * w, ys + i * n * h, n, w, h), q, params,
                           c, s);
      },
      slots);
}

template <class T>
double time_heatmaps(const Tensor& t, std::size_t n, std::size_t rows, std::size_t cols,
                     const gv::Quant* q, std::size_t iterations, float* c, float* s,
                     std::size_t slots) {
  const auto* data = static_cast<const T*>(t.data);
  const std::size_t face = n * rows * cols;
  return ns_per_iteration(
      iterations, c,
      [&](std::size_t i) {
        const gv::HeatmapBatch<T> b{data + i * face, n, rows, cols};
        if constexpr (std::is_same<T, float>::value) {
          gv::decode_heatmaps(b, c, s);
        } else {
          gv::decode_heatmaps(b, *q, c, s);
        }
      },
      slots);
}

double bench_vectors(py::handle xo, py::handle yo, std::size_t iterations, double scale,
                     long long zero_point, bool pool, py::handle subpixel) {
  const Tensor x = checked_tensor(xo, "x vectors", Accept::any, 2, 2);
  const Tensor y = checked_tensor(yo, "y vectors", Accept::any, 2, 2);
  check_same_leading(x, "x vectors", y, "y vectors");
  gv::VectorParams params{};
  params.subpixel = checked_subpixel(subpixel);
  const std::size_t slots = pool_size(x, pool, 2);
  const std::size_t n = x.leading_size(1) / slots, w = x.dim(-1), h = y.dim(-1);
  std::vector<float> coords(2 * n), scores(n);
  float* c = coords.data();
  float* s = scores.data();
  if (x.elem == Elem::f32) {
    const auto* xs = static_cast<const float*>(x.data);
    const auto* ys = static_cast<const float*>(y.data);
    return ns_per_iteration(
        iterations, c,
        [&](std::size_t i) {
          gv::decode_vectors(gv::split_vectors(xs + i * n * w, ys + i * n * h, n, w, h), params,
                             c, s);
        },
        slots);
  }
  const gv::Quant q = checked_quant(x, scale, zero_point);
  if (x.elem == Elem::i8)
    return time_quant_vectors<std::int8_t>(x, y, n, w, h, q, params, iterations, c, s, slots);
  return time_quant_vectors<std::uint8_t>(x, y, n, w, h, q, params, iterations, c, s, slots);
}

double bench_heatmaps(py::handle ho, std::size_t iterations, double scale, long long zero_point,
                      bool pool) {
  const Tensor t = checked_tensor(ho, "heatmaps", Accept::any, 3, 1);
  const std::size_t slots = pool_size(t, pool, 3);
  const std::size_t n = t.leading_size(2) / slots, rows = t.dim(-2), cols = t.dim(-1);
  std::vector<float> coords(2 * n), scores(n);
  float* c = coords.data();
  float* s = scores.data();
  if (t.elem == Elem::f32)
    return time_heatmaps<float>(t, n, rows, cols, nullptr, iterations, c, s, slots);
  const gv::Quant q = checked_quant(t, scale, zero_point);
  if (t.elem == Elem::i8)
    return time_heatmaps<std::int8_t>(t, n, rows, cols, &q, iterations, c, s, slots);
  return time_heatmaps<std::uint8_t>(t, n, rows, cols, &q, iterations, c, s, slots);
}

}  // namespace

void add_benchmarks(py::module_& m) {
  m.def("benchmark_memcpy", &bench_memcpy, py::arg("array"), py::arg("iterations"),
        py::arg("pool") = false,
        "ns per memcpy of the array's bytes (pool: of one slot of its first axis, in turn) into a "
        "preallocated buffer");
  m.def("benchmark_vectors", &bench_vectors, py::arg("x"), py::arg("y"), py::arg("iterations"),
        py::arg("scale") = 1.0, py::arg("zero_point") = 0, py::arg("pool") = false,
        py::kw_only(), py::arg("subpixel") = "quarter",
        "ns per decode of split x/y vectors (float32, or int8/uint8 with scale and zero_point); "
        "pool: decode one slot of the first axis per iteration, in turn; subpixel: the rule");
  m.def("benchmark_heatmaps", &bench_heatmaps, py::arg("heatmaps"), py::arg("iterations"),
        py::arg("scale") = 1.0, py::arg("zero_point") = 0, py::arg("pool") = false,
        "ns per decode of heatmaps (float32, or int8/uint8 with scale and zero_point); pool: "
        "decode one slot of the first axis per iteration, in turn");
}

}  // namespace gvpy
