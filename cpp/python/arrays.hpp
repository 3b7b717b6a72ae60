// Binding side: turning Python objects into checked views of numpy arrays, and allocating the
// (coords, scores) outputs. Every problem is a ValueError that names the argument and the rule.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <string>

#include "gv/decode.hpp"

namespace gvpy {

namespace py = pybind11;

enum class Elem { f32, i8, u8 };

/// A checked numpy array: C-contiguous, aligned, non-empty, of one of the allowed dtypes.
struct Tensor {
  py::array array;  // holds a reference for as long as the view is used
  Elem elem;
  int ndim;
  const py::ssize_t* shape;
  const void* data;

  std::size_t dim(int axis) const { return static_cast<std::size_t>(shape[axis < 0 ? ndim + axis : axis]); }
  std::size_t leading_size(int keep) const;  // product of all but the last `keep` axes
  std::string shape_str() const;
};

/// Which dtypes an argument accepts.
enum class Accept { f32, int8_or_uint8, any };

/// Check `obj` as argument `name`: a numpy array of an accepted dtype, C-contiguous, aligned,
/// at least `min_ndim` dimensions, non-empty, and at least `last_min` long on the last axis.
Tensor checked_tensor(py::handle obj, const char* name, Accept accept, int min_ndim,
                      std::size_t last_min);

/// ValueError unless a and b agree on all axes but the last.
void check_same_leading(const Tensor& a, const char* a_name, const Tensor& b, const char* b_name);

/// The sub-pixel rule named by `obj` (a name of GV_SUBPIXEL_LIST); anything else is a ValueError
/// worded like gaussian_vector.decode_rules.check_subpixel.
gv::Subpixel checked_subpixel(py::handle obj);

/// The decode rules `rules` holds, read by the field names of GV_VECTOR_PARAMS (a
/// gaussian_vector.decode_rules.DecodeRules, or any object with those attributes; None: the
/// defaults) and checked by gv::check_params (ValueError). A missing attribute raises
/// AttributeError, a value of the wrong Python type TypeError naming the field.
gv::VectorParams checked_params(py::handle rules);

/// The `subpixel` field of `rules` (None: the default), the only one heatmaps read; checked.
gv::Subpixel checked_rules_subpixel(py::handle rules);

/// The fields checked_params reads, in order, with their C++ defaults (`_native.RULE_DEFAULTS`).
py::dict rule_defaults();

/// Quantisation parameters, checked against the element type of `t`.
gv::Quant checked_quant(const Tensor& t, double scale, long long zero_point);

/// New float32 arrays shaped like `t` without its last `drop` axes, plus (2,) for coords.
struct Outputs {
  py::array_t<float> coords;
  py::array_t<float> scores;
};
Outputs new_outputs(const Tensor& t, int drop);

}  // namespace gvpy
