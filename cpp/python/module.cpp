// gaussian_vector._native: the pybind11 face of the gv_decode library.
//
// Each function checks its arguments (ValueError naming the problem), allocates the outputs,
// then releases the GIL for the decoding itself. Nothing is shared between calls, so any number
// of threads may decode at once. `rules` is the last positional argument (a keyword costs
// ~400 ns a call): a gaussian_vector.decode_rules.DecodeRules itself, whose fields are read by
// the names of GV_VECTOR_PARAMS (arrays.hpp), so no function here names a rule.
// gaussian_vector/native.py is the documented Python-level API.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "arrays.hpp"
#include "benchmark.hpp"
#include "gv/decode.hpp"

namespace gvpy {
namespace {

/// Decode checked x and y tensors (same dtype and leading shape) laid out as `batch` says.
template <class T>
gv::VectorBatch<T> batch_of(const Tensor& x, const Tensor& y, std::size_t w, std::size_t h,
                            std::size_t x_stride, std::size_t y_stride) {
  return gv::VectorBatch<T>{static_cast<const T*>(x.data), static_cast<const T*>(y.data),
                            x.leading_size(1), w, h, x_stride, y_stride};
}

/// Runs the decoder for the element type of `t`, with the GIL released.
py::tuple run_vectors(const Tensor& x, const Tensor& y, std::size_t w, std::size_t h,
                      std::size_t x_stride, std::size_t y_stride, const gv::VectorParams& params,
                      const gv::Quant* quant) {
  Outputs out = new_outputs(x, 1);
  float* c = out.coords.mutable_data();
  float* s = out.scores.mutable_data();
  {
    py::gil_scoped_release nogil;
    switch (x.elem) {
      case Elem::f32:
        gv::decode_vectors(batch_of<float>(x, y, w, h, x_stride, y_stride), params, c, s);
        break;
      case Elem::i8:
        gv::decode_vectors(batch_of<std::int8_t>(x, y, w, h, x_stride, y_stride), *quant, params,
                           c, s);
        break;
      case Elem::u8:
        gv::decode_vectors(batch_of<std::uint8_t>(x, y, w, h, x_stride, y_stride), *quant, params,
                           c, s);
        break;
    }
  }
  return py::make_tuple(std::move(out.coords), std::move(out.scores));
}

py::tuple decode_split(py::handle xo, py::handle yo, Accept accept, py::handle rules, double scale,
                       long long zero_point) {
  const Tensor x = checked_tensor(xo, "x vectors", accept, 2, 2);
  const Tensor y = checked_tensor(yo, "y vectors", accept, 2, 2);
  check_same_leading(x, "x vectors", y, "y vectors");
  const gv::VectorParams params = checked_params(rules);
  gv::Quant quant{};
  if (accept != Accept::f32) quant = checked_quant(x, scale, zero_point);
  const std::size_t w = x.dim(-1), h = y.dim(-1);
  return run_vectors(x, y, w, h, w, h, params, &quant);
}

py::tuple decode_packed(py::handle vo, long long width, Accept accept, py::handle rules,
                        double scale, long long zero_point) {
  const Tensor v = checked_tensor(vo, "packed vectors", accept, 2, 4);
  const std::size_t len = v.dim(-1);
  if (width < 2 || static_cast<unsigned long long>(width) > len - 2)
    throw py::value_error("width " + std::to_string(width) + " does not fit packed vectors of shape " +
                          v.shape_str() + " (need 2 <= width <= W + H - 2)");
  const gv::VectorParams params = checked_params(rules);
  gv::Quant quant{};
  if (accept != Accept::f32) quant = checked_quant(v, scale, zero_point);
  const std::size_t w = static_cast<std::size_t>(width);
  const std::size_t elem_size = v.elem == Elem::f32 ? 4 : 1;
  Tensor y = v;
  y.data = static_cast<const char*>(v.data) + w * elem_size;
  return run_vectors(v, y, w, len - w, len, len, params, &quant);
}

py::tuple decode_heatmaps(py::handle ho, Accept accept, py::handle rules, double scale,
                          long long zero_point) {
  const Tensor t = checked_tensor(ho, "heatmaps", accept, 3, 1);
  const gv::Subpixel subpixel = checked_rules_subpixel(rules);
  gv::Quant quant{};
  if (accept != Accept::f32) quant = checked_quant(t, scale, zero_point);
  Outputs out = new_outputs(t, 2);
  float* c = out.coords.mutable_data();
  float* s = out.scores.mutable_data();
  const std::size_t n = t.leading_size(2), rows = t.dim(-2), cols = t.dim(-1);
  {
    py::gil_scoped_release nogil;
    switch (t.elem) {
      case Elem::f32:
        gv::decode_heatmaps(gv::HeatmapBatch<float>{static_cast<const float*>(t.data), n, rows, cols},
                            c, s, subpixel);
        break;
      case Elem::i8:
        gv::decode_heatmaps(
            gv::HeatmapBatch<std::int8_t>{static_cast<const std::int8_t*>(t.data), n, rows, cols},
            quant, c, s, subpixel);
        break;
      case Elem::u8:
        gv::decode_heatmaps(
            gv::HeatmapBatch<std::uint8_t>{static_cast<const std::uint8_t*>(t.data), n, rows, cols},
            quant, c, s, subpixel);
        break;
    }
  }
  return py::make_tuple(std::move(out.coords), std::move(out.scores));
}

}  // namespace
}  // namespace gvpy

PYBIND11_MODULE(_native, m) {
  using namespace gvpy;
  m.doc() = "Native Gaussian Vector decoder (C++ gv_decode). Use gaussian_vector.native.";

  m.attr("RULE_DEFAULTS") = rule_defaults();
  const char* rules_doc = "; rules: a DecodeRules (None: the C++ defaults, RULE_DEFAULTS)";
  const auto doc = [rules_doc](const char* what) { return std::string(what) + rules_doc; };
  m.def(
      "decode_vectors",
      [](py::handle x, py::handle y, py::handle rules) {
        return decode_split(x, y, Accept::f32, rules, 1.0, 0);
      },
      py::arg("x"), py::arg("y"), py::arg("rules") = py::none(),
      doc("float32 x (..., K, W) and y (..., K, H) -> (coords (..., K, 2), scores (..., K))")
          .c_str());
  m.def(
      "decode_vectors_int8",
      [](py::handle x, py::handle y, double scale, long long zero_point, py::handle rules) {
        return decode_split(x, y, Accept::int8_or_uint8, rules, scale, zero_point);
      },
      py::arg("x"), py::arg("y"), py::arg("scale"), py::arg("zero_point"),
      py::arg("rules") = py::none(),
      doc("int8/uint8 x and y with real = (q - zero_point) * scale -> (coords, scores)").c_str());
  m.def(
      "decode_packed",
      [](py::handle v, long long width, py::handle rules) {
        return decode_packed(v, width, Accept::f32, rules, 1.0, 0);
      },
      py::arg("vectors"), py::arg("width"), py::arg("rules") = py::none(),
      doc("float32 (..., K, W + H), x first -> (coords, scores)").c_str());
  m.def(
      "decode_packed_int8",
      [](py::handle v, long long width, double scale, long long zero_point, py::handle rules) {
        return decode_packed(v, width, Accept::int8_or_uint8, rules, scale, zero_point);
      },
      py::arg("vectors"), py::arg("width"), py::arg("scale"), py::arg("zero_point"),
      py::arg("rules") = py::none(),
      doc("int8/uint8 (..., K, W + H), x first -> (coords, scores)").c_str());
  m.def(
      "decode_heatmaps",
      [](py::handle h, py::handle rules) {
        return decode_heatmaps(h, Accept::f32, rules, 1.0, 0);
      },
      py::arg("heatmaps"), py::arg("rules") = py::none(),
      doc("float32 (..., K, H, W) -> (coords (..., K, 2), scores (..., K)); reads subpixel only")
          .c_str());
  m.def(
      "decode_heatmaps_int8",
      [](py::handle h, double scale, long long zero_point, py::handle rules) {
        return decode_heatmaps(h, Accept::int8_or_uint8, rules, scale, zero_point);
      },
      py::arg("heatmaps"), py::arg("scale"), py::arg("zero_point"),
      py::arg("rules") = py::none(),
      doc("int8/uint8 (..., K, H, W) -> (coords, scores); reads subpixel only").c_str());

  m.def("isa", [] { return gv::isa_name(gv::automatic_isa()); },
        "The argmax path in use (scalar, sse41, avx2, avx512 or neon; GV_DECODE_ISA may force "
        "one).");
  m.def(
      "supported_isas",
      [] {
        std::vector<std::string> names;
        for (gv::Isa isa : gv::supported_isas()) names.emplace_back(gv::isa_name(isa));
        return names;
      },
      "Every argmax path this build and CPU can run.");
  add_benchmarks(m);
}
