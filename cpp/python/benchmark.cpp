// C++ timing loops for gv-bench (see benchmark.hpp). Each function runs its operation
// `iterations` times back to back with the GIL released and returns nanoseconds per iteration.
// Outputs go to buffers allocated before the clock starts; a compiler barrier after every
// iteration keeps the work from being hoisted or elided.
#include "benchmark.hpp"

#include <chrono>
#include <cstdint>
#include <cstring>
#include <stdexcept>
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

template <class F>
double ns_per_iteration(std::size_t iterations, const void* out, F&& op) {
  if (iterations == 0) throw py::value_error("iterations must be >= 1");
  py::gil_scoped_release nogil;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < iterations; ++i) {
    op();
    clobber(out);
  }
  const auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(iterations);
}

double bench_memcpy(py::handle a, std::size_t iterations) {
  const Tensor t = checked_tensor(a, "array", Accept::any, 1, 1);
  const std::size_t bytes = static_cast<std::size_t>(t.array.nbytes());
  // 64-byte aligned like numpy's data, so the copy is not penalised by a misaligned target.
  std::vector<unsigned char> buffer(bytes + 64);
  unsigned char* dst = buffer.data() + (64 - reinterpret_cast<std::uintptr_t>(buffer.data()) % 64);
  const void* src = t.data;
  return ns_per_iteration(iterations, dst, [&] { std::memcpy(dst, src, bytes); });
}

double bench_vectors(py::handle xo, py::handle yo, std::size_t iterations, double scale,
                     long long zero_point) {
  const Tensor x = checked_tensor(xo, "x vectors", Accept::any, 2, 2);
  const Tensor y = checked_tensor(yo, "y vectors", Accept::any, 2, 2);
  check_same_leading(x, "x vectors", y, "y vectors");
  const gv::VectorParams params{};
  const std::size_t n = x.leading_size(1), w = x.dim(-1), h = y.dim(-1);
  std::vector<float> coords(2 * n), scores(n);
  float* c = coords.data();
  float* s = scores.data();
  if (x.elem == Elem::f32) {
    const auto b = gv::split_vectors(static_cast<const float*>(x.data),
                                     static_cast<const float*>(y.data), n, w, h);
    return ns_per_iteration(iterations, c, [&] { gv::decode_vectors(b, params, c, s); });
  }
  const gv::Quant q = checked_quant(x, scale, zero_point);
  if (x.elem == Elem::i8) {
    const auto b = gv::split_vectors(static_cast<const std::int8_t*>(x.data),
                                     static_cast<const std::int8_t*>(y.data), n, w, h);
    return ns_per_iteration(iterations, c, [&] { gv::decode_vectors(b, q, params, c, s); });
  }
  const auto b = gv::split_vectors(static_cast<const std::uint8_t*>(x.data),
                                   static_cast<const std::uint8_t*>(y.data), n, w, h);
  return ns_per_iteration(iterations, c, [&] { gv::decode_vectors(b, q, params, c, s); });
}

double bench_heatmaps(py::handle ho, std::size_t iterations, double scale, long long zero_point) {
  const Tensor t = checked_tensor(ho, "heatmaps", Accept::any, 3, 1);
  const std::size_t n = t.leading_size(2), rows = t.dim(-2), cols = t.dim(-1);
  std::vector<float> coords(2 * n), scores(n);
  float* c = coords.data();
  float* s = scores.data();
  if (t.elem == Elem::f32) {
    const gv::HeatmapBatch<float> b{static_cast<const float*>(t.data), n, rows, cols};
    return ns_per_iteration(iterations, c, [&] { gv::decode_heatmaps(b, c, s); });
  }
  const gv::Quant q = checked_quant(t, scale, zero_point);
  if (t.elem == Elem::i8) {
    const gv::HeatmapBatch<std::int8_t> b{static_cast<const std::int8_t*>(t.data), n, rows, cols};
    return ns_per_iteration(iterations, c, [&] { gv::decode_heatmaps(b, q, c, s); });
  }
  const gv::HeatmapBatch<std::uint8_t> b{static_cast<const std::uint8_t*>(t.data), n, rows, cols};
  return ns_per_iteration(iterations, c, [&] { gv::decode_heatmaps(b, q, c, s); });
}

}  // namespace

void add_benchmarks(py::module_& m) {
  m.def("benchmark_memcpy", &bench_memcpy, py::arg("array"), py::arg("iterations"),
        "ns per memcpy of the array's bytes into a preallocated buffer");
  m.def("benchmark_vectors", &bench_vectors, py::arg("x"), py::arg("y"), py::arg("iterations"),
        py::arg("scale") = 1.0, py::arg("zero_point") = 0,
        "ns per decode of split x/y vectors (float32, or int8/uint8 with scale and zero_point)");
  m.def("benchmark_heatmaps", &bench_heatmaps, py::arg("heatmaps"), py::arg("iterations"),
        py::arg("scale") = 1.0, py::arg("zero_point") = 0,
        "ns per decode of heatmaps (float32, or int8/uint8 with scale and zero_point)");
}

}  // namespace gvpy
