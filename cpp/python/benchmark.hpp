// Binding side: C++ timing loops (steady_clock) for gv-bench, so that memcpy and decoding are
// timed side by side by the same code, without Python in the loop.
#pragma once

#include <pybind11/pybind11.h>

namespace gvpy {

/// Adds benchmark_memcpy, benchmark_vectors and benchmark_heatmaps to the module.
void add_benchmarks(pybind11::module_& m);

}  // namespace gvpy
