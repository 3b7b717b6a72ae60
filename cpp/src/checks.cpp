// Parameter validation shared by the decoders, and the single-row argmax entry points.
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

#include "gv/decode.hpp"
#include "kernels.hpp"

namespace gv {
namespace {

/// A double as the binding prints it (ostream's default: "0", "-1", "nan", "inf").
std::string number(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

// The checks GV_VECTOR_PARAMS names in its `check` column, one function each.
template <class T>
void check_any(const char* /*name*/, const T& /*value*/) noexcept {}

void check_positive(const char* name, double value) {
  if (!std::isfinite(value) || !(value > 0))
    throw std::invalid_argument(std::string(name) + " must be a finite number > 0, got " +
                                number(value));
}

void check_known(const char* /*name*/, Subpixel value) { check_subpixel(value); }

}  // namespace

const char* subpixel_name(Subpixel subpixel) noexcept {
  switch (subpixel) {
#define GV_SUBPIXEL_CASE(name) \
  case Subpixel::name:         \
    return #name;
    GV_SUBPIXEL_LIST(GV_SUBPIXEL_CASE)
#undef GV_SUBPIXEL_CASE
  }
  return nullptr;
}

void check_params(const VectorParams& params) {
#define GV_CHECK_FIELD(type, name, init, check) check_##check(#name, params.name);
  GV_VECTOR_PARAMS(GV_CHECK_FIELD)
#undef GV_CHECK_FIELD
}

std::string subpixel_names() {
  std::string names;
#define GV_SUBPIXEL_NAME(name) names += std::string(names.empty() ? "" : ", ") + #name;
  GV_SUBPIXEL_LIST(GV_SUBPIXEL_NAME)
#undef GV_SUBPIXEL_NAME
  return names;
}

void check_subpixel(Subpixel subpixel) {
  if (subpixel_name(subpixel) == nullptr)
    throw std::invalid_argument("subpixel must be one of " + subpixel_names() + ", got " +
                                std::to_string(static_cast<int>(subpixel)));
}

// A normal scale keeps every (q - zero_point) * scale distinct and ordered like q, and the
// bound on 512 * scale keeps them finite: that is what makes argmax on raw integers exact.
template <class T>
void check_quant(Quant quant) {
  if (!std::isnormal(quant.scale) || !(quant.scale > 0) ||
      !std::isfinite(quant.scale * 512.0f))
    throw std::invalid_argument(
        "scale must be a normal float32 > 0 (and < FLT_MAX / 512), got " +
        std::to_string(quant.scale));
  if (quant.zero_point < std::numeric_limits<T>::min() ||
      quant.zero_point > std::numeric_limits<T>::max())
    throw std::invalid_argument("zero point " + std::to_string(quant.zero_point) +
                                " is outside the range of the integer type");
}

template void check_quant<std::int8_t>(Quant);
template void check_quant<std::uint8_t>(Quant);

namespace {
template <class T>
std::size_t argmax_one(const T* v, std::size_t n, detail::RowsArgmax<T> rows) {
  if (v == nullptr || n == 0) throw std::invalid_argument("argmax of an empty or null row");
  std::size_t out = 0;
  rows(v, 1, n, n, &out);
  return out;
}
}  // namespace

std::size_t argmax(const float* v, std::size_t n, Isa isa) {
  return argmax_one(v, n, detail::kernels_for(isa).f32.argmax);
}
std::size_t argmax(const std::int8_t* v, std::size_t n, Isa isa) {
  return argmax_one(v, n, detail::kernels_for(isa).i8.argmax);
}
std::size_t argmax(const std::uint8_t* v, std::size_t n, Isa isa) {
  return argmax_one(v, n, detail::kernels_for(isa).u8.argmax);
}

}  // namespace gv
