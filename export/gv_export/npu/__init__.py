"""Exports for vendor NPUs whose toolchains live in their own environments (tools/npu_env.sh):
Rockchip NPUs through rknn-toolkit2 (.rknn, int8) and the Qualcomm HTP through ONNX Runtime's
QNN provider (a QDQ ONNX model). Each export is judged in the vendor's simulator before it is
written: every op on the NPU (or the command names those that are not) and the simulator's
output decoded by our decoder against torch on real faces (docs/npu.md).

The vendor packages are never imported here: `gaussian_vector.runtime.simulators` runs them in
a worker process with that toolchain's python.
"""

from .export import export_npu

__all__ = ["export_npu"]
