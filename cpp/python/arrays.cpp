// Input checks and output allocation for the binding (see arrays.hpp).
#include "arrays.hpp"

#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <type_traits>
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
    for (int i = 0;; ++i) {
      const auto subpixel = static_cast<gv::Subpixel>(i);
      const char* name = gv::subpixel_name(subpixel);
      if (name == nullptr) break;
      if (PyUnicode_CompareWithASCIIString(obj.ptr(), name) == 0) return subpixel;
    }
  }
  value_error("subpixel must be one of " + gv::subpixel_names() + ", got " +
              std::string(py::repr(obj)));
}

namespace {

/// `name` as an interned Python string, made once per call site and kept for the process.
py::handle interned(const char* name) { return py::handle(PyUnicode_InternFromString(name)); }

/// A field's value in its C++ type: pybind11's conversion (a bool, a number as a double), or a
/// rule's name for the Subpixel field; TypeError naming the field when it does not convert.
template <class T>
T field_as(py::handle value, const char* name) {
  try {
    return py::cast<T>(value);
  } catch (const py::cast_error&) {
    throw py::type_error(std::string(name) + " must be " +
                         (std::is_same<T, bool>::value ? "a bool" : "a number") + ", got " +
                         std::string(py::str(py::type::of(value).attr("__name__"))));
  }
}

template <>
gv::Subpixel field_as<gv::Subpixel>(py::handle value, const char* /*name*/) {
  return checked_subpixel(value);
}

/// The attribute `key` of `rules` as a field of type T.
template <class T>
T read_field(py::handle rules, py::handle key, const char* name) {
  const py::object value = rules.attr(key);
  return field_as<T>(value, name);
}

/// A C++ default as the Python value a DecodeRules holds.
py::object as_python(bool v) { return py::bool_(v); }
py::object as_python(double v) { return py::float_(v); }
py::object as_python(gv::Subpixel v) { return py::str(gv::subpixel_name(v)); }

}  // namespace

gv::VectorParams checked_params(py::handle rules) {
  gv::VectorParams params{};
  if (rules.is_none()) return params;
#define GV_READ_FIELD(type, name, init, check)                         \
  {                                                                    \
    static const py::handle key = interned(#name);                     \
    params.name = read_field<decltype(params.name)>(rules, key, #name); \
  }
  GV_VECTOR_PARAMS(GV_READ_FIELD)
#undef GV_READ_FIELD
  gv::check_params(params);  // std::invalid_argument: pybind11 raises it as ValueError
  return params;
}

gv::Subpixel checked_rules_subpixel(py::handle rules) {
  if (rules.is_none()) return gv::VectorParams{}.subpixel;
  static const py::handle key = interned("subpixel");
  return read_field<gv::Subpixel>(rules, key, "subpixel");
}

py::dict rule_defaults() {
  const gv::VectorParams defaults{};
  py::dict out;
#define GV_FIELD_DEFAULT(type, name, init, check) out[#name] = as_python(defaults.name);
  GV_VECTOR_PARAMS(GV_FIELD_DEFAULT)
#undef GV_FIELD_DEFAULT
  return out;
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
