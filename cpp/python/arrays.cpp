// Input checks and output allocation for the binding (see arrays.hpp).
#include "arrays.hpp"

#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace gvpy {
namespace {

std::string number(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

[[noreturn]] void value_error(const std::string& msg) { throw py::value_error(msg); }

}  // namespace

std::size_t Tensor::leading_size(int keep) const {
  std::size_t n = 1;
  for (int a = 0; a < ndim - keep; ++a) n *= static_cast<std::size_t>(shape[a]);
  return n;
}

std::string Tensor::shape_str() const {
  std::string s = "(";
  for (int a = 0; a < ndim; ++a) {
    s += std::to_string(shape[a]);
    if (a + 1 < ndim || ndim == 1) s += ",";
    if (a + 1 < ndim) s += " ";
  }
  return s + ")";
}

Tensor checked_tensor(py::handle obj, const char* name, Accept accept, int min_ndim,
                      std::size_t last_min) {
  if (!py::isinstance<py::array>(obj))
    value_error(std::string(name) + " must be a numpy array, got " +
                std::string(py::str(py::type::of(obj).attr("__name__"))));
  Elem elem;
  const bool floats = accept != Accept::int8_or_uint8;
  const bool ints = accept != Accept::f32;
  if (floats && py::array_t<float>::check_(obj)) {
    elem = Elem::f32;
  } else if (ints && py::array_t<std::int8_t>::check_(obj)) {
    elem = Elem::i8;
  } else if (ints && py::array_t<std::uint8_t>::check_(obj)) {
    elem = Elem::u8;
  } else {
    const char* want = floats ? (ints ? "float32, int8 or uint8" : "float32") : "int8 or uint8";
    value_error(std::string(name) + " must have dtype " + want + " (native byte order), got " +
                std::string(py::str(obj.attr("dtype"))));
  }
  py::array arr = py::reinterpret_borrow<py::array>(obj);
  Tensor t{arr, elem, static_cast<int>(arr.ndim()), arr.shape(), arr.data()};
  if (t.ndim < min_ndim)
    value_error(std::string(name) + " must have at least " + std::to_string(min_ndim) +
                " dimensions, got shape " + t.shape_str());
  if (arr.size() == 0) value_error(std::string(name) + " is empty (shape " + t.shape_str() + ")");
  if (t.dim(-1) < last_min)
    value_error(std::string(name) + " must have length >= " + std::to_string(last_min) +
                " on its last axis, got shape " + t.shape_str());
  if (!(arr.flags() & py::array::c_style))
    value_error(std::string(name) +
                " must be C-contiguous (use numpy.ascontiguousarray), got strides that are not");
  if (!(arr.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_))
    value_error(std::string(name) + " must be aligned to its dtype (copy it with numpy.array)");
  return t;
}

void check_same_leading(const Tensor& a, const char* a_name, const Tensor& b, const char* b_name) {
  bool same = a.ndim == b.ndim && a.elem == b.elem;
  for (int i = 0; same && i < a.ndim - 1; ++i) same = a.shape[i] == b.shape[i];
  if (a.elem != b.elem)
    value_error(std::string(a_name) + " and " + b_name + " must have the same dtype");
  if (!same)
    value_error(std::string(a_name) + " and " + b_name +
                " must agree on all but the last axis, got " + a.shape_str() + " and " +
                b.shape_str());
}

gv::Subpixel checked_subpixel(py::handle obj) {
  if (py::isinstance<py::str>(obj)) {
    const std::string name = py::cast<std::string>(obj);
    if (name == "quarter") return gv::Subpixel::quarter;
    if (name == "parabola") return gv::Subpixel::parabola;
  }
  value_error("subpixel must be one of quarter, parabola, got " + std::string(py::repr(obj)));
}

gv::VectorParams checked_params(bool beyond_box, double tau, double sigma, py::handle subpixel) {
  if (!std::isfinite(sigma) || !(sigma > 0))
    value_error("sigma must be a finite number > 0, got " + number(sigma));
  if (!std::isfinite(tau) || !(tau > 0))
    value_error("tau must be a finite number > 0, got " + number(tau));
  return gv::VectorParams{beyond_box, tau, sigma, checked_subpixel(subpixel)};
}

gv::Quant checked_quant(const Tensor& t, double scale, long long zero_point) {
  if (!std::isfinite(scale) || !(scale > 0))
    value_error("scale must be a finite number > 0, got " + number(scale));
  const float s = static_cast<float>(scale);
  if (!std::isnormal(s) || !std::isfinite(s * 512.0f))
    value_error("scale " + number(scale) +
                " is outside the supported float32 range (normal, below FLT_MAX / 512)");
  const long long lo = t.elem == Elem::i8 ? -128 : 0;
  const long long hi = t.elem == Elem::i8 ? 127 : 255;
  if (zero_point < lo || zero_point > hi)
    value_error("zero_point " + std::to_string(zero_point) + " is outside the range of " +
                (t.elem == Elem::i8 ? "int8 [-128, 127]" : "uint8 [0, 255]"));
  return gv::Quant{s, static_cast<std::int32_t>(zero_point)};
}

Outputs new_outputs(const Tensor& t, int drop) {
  const int lead = t.ndim - drop;
  std::vector<py::ssize_t> shape(t.shape, t.shape + lead);
  py::array_t<float> scores(shape);
  shape.push_back(2);
  py::array_t<float> coords(shape);
  return Outputs{std::move(coords), std::move(scores)};
}

}  // namespace gvpy
