"""External delegates: the documented errors for a library that is missing or fails to load, CPU
fallback on request, options passed through, and the report of ops left on the CPU."""

from __future__ import annotations

import shutil
import subprocess
import warnings

import numpy as np
import pytest
import runtime_fixtures as rf

from gaussian_vector.modelfile.delegates import coverage, undelegated_ops
from gaussian_vector.runtime import DelegateError, DelegateSpec, Landmarker

oracle_onnx, oracle_tflite = rf.oracle_onnx, rf.oracle_tflite  # fixtures

# A do-nothing TFLite external delegate: loads through load_delegate, claims no node (so every op
# stays on the CPU) and refuses to be created with the option fail=1. The struct mirrors
# TfLiteDelegate of tensorflow/lite/core/c/common.h; only Prepare is set.
NOOP_DELEGATE_C = r"""
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
typedef struct TfLiteDelegate {
  void* data_;
  int (*Prepare)(void* context, struct TfLiteDelegate* delegate);
  int (*CopyFromBufferHandle)(void*, struct TfLiteDelegate*, int, void*);
  int (*CopyToBufferHandle)(void*, struct TfLiteDelegate*, int, void*);
  void (*FreeBufferHandle)(void*, struct TfLiteDelegate*, int*);
  int64_t flags;
  void* opaque_delegate_builder;
} TfLiteDelegate;
static int prepare(void* context, TfLiteDelegate* d) { (void)context; (void)d; return 0; }
TfLiteDelegate* tflite_plugin_create_delegate(char** keys, char** values, size_t n,
                                              void (*report_error)(const char*)) {
  for (size_t i = 0; i < n; ++i)
    if (strcmp(keys[i], "fail") == 0 && strcmp(values[i], "1") == 0) {
      if (report_error) report_error("noop delegate: asked to fail");
      return NULL;
    }
  TfLiteDelegate* d = calloc(1, sizeof *d);
  d->Prepare = prepare;
  return d;
}
void tflite_plugin_destroy_delegate(TfLiteDelegate* d) { free(d); }
"""

IMAGE = np.zeros((120, 120, 3), np.uint8)
BOX = [20, 20, 90, 100]


@pytest.fixture(scope="module")
def noop_delegate(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build the test delegate")
    d = tmp_path_factory.mktemp("delegate")
    (d / "noop.c").write_text(NOOP_DELEGATE_C)
    lib = d / "libnoop_delegate.so"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(lib), str(d / "noop.c")], check=True)
    return lib


def test_missing_delegate_library_is_the_documented_error(oracle_tflite, tmp_path):
    lib = tmp_path / "no" / "libvx_delegate.so"
    with pytest.raises(DelegateError, match=f"external delegate library not found: {lib}"):
        Landmarker.from_file(oracle_tflite, delegate=str(lib))


def test_missing_delegate_falls_back_to_cpu_when_asked(oracle_tflite, tmp_path):
    lib = str(tmp_path / "libethosu_delegate.so")
    with pytest.warns(RuntimeWarning, match="not found.*running on the CPU"):
        lm = Landmarker.from_file(oracle_tflite, delegate=lib, cpu_fallback=True)
    assert not lm.backend.delegated and lm.backend.cpu_ops is None
    assert lm.detect(IMAGE, BOX)[0].landmarks.shape == (5, 2)


def test_library_that_is_not_a_delegate(oracle_tflite, tmp_path):
    fake = tmp_path / "libfake_delegate.so"
    fake.write_bytes(b"not an ELF file")
    with pytest.raises(DelegateError, match=f"{fake} failed to load"):
        Landmarker.from_file(oracle_tflite, delegate=str(fake))


@pytest.mark.parametrize("library", ["not an ELF", "a real library, not a delegate"])
def test_a_library_that_is_no_delegate_leaves_no_exception_for_the_garbage_collector(
        oracle_tflite, tmp_path, monkeypatch, library):
    """LiteRT's Delegate half-built on such a file raised AttributeError in __del__, which the
    tests logged as 'Exception ignored in: Delegate.__del__'; the runtime refuses it first."""
    import ctypes.util
    import gc
    import sys

    if library == "not an ELF":
        path = tmp_path / "libfake_delegate.so"
        path.write_bytes(b"not an ELF file")
    else:
        path = ctypes.util.find_library("m") or pytest.skip("no libm to load")
    ignored = []
    monkeypatch.setattr(sys, "unraisablehook", ignored.append)
    with pytest.raises(DelegateError, match="failed to load") as e:
        Landmarker.from_file(oracle_tflite, delegate=str(path))
    del e
    gc.collect()
    assert not ignored, [str(u.exc_value) for u in ignored]


def test_loaded_delegate_reports_the_ops_left_on_the_cpu(oracle_tflite, noop_delegate):
    lm = Landmarker.from_file(oracle_tflite, delegate=str(noop_delegate))
    assert lm.backend.delegated
    # the no-op delegate takes nothing: every op of the oracle graph stays on the CPU
    assert lm.backend.cpu_ops == ["MEAN#0", "RESHAPE#1", "MUL#2", "ADD#3"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = Landmarker.from_file(oracle_tflite).detect(IMAGE, BOX)[0].landmarks
    np.testing.assert_allclose(lm.detect(IMAGE, BOX)[0].landmarks, ref)


def test_delegate_options_reach_the_library(oracle_tflite, noop_delegate):
    with pytest.raises(DelegateError, match="failed to load.*asked to fail"):
        Landmarker.from_file(oracle_tflite, delegate=(str(noop_delegate), {"fail": 1}))
    spec = DelegateSpec.parse(f"{noop_delegate}:fail=0;cache=/tmp/x")
    assert spec.options == {"fail": "0", "cache": "/tmp/x"}
    Landmarker.from_file(oracle_tflite, delegate=spec)


def test_delegate_spec_errors():
    with pytest.raises(DelegateError, match="not key=value"):
        DelegateSpec.parse("libx.so:verbose")


def test_onnx_takes_providers_not_delegates(oracle_onnx):
    with pytest.raises(DelegateError, match="execution providers"):
        Landmarker.from_file(oracle_onnx, delegate="/usr/lib/libvx_delegate.so")
    with pytest.raises(DelegateError, match="NoSuchExecutionProvider not in this onnxruntime"):
        Landmarker.from_file(oracle_onnx, providers=["NoSuchExecutionProvider"])


class _FakeInterpreter:
    """Ops as LiteRT lists them after delegation: originals, then one DELEGATE per partition."""

    def __init__(self, ops):
        self.ops = [{"index": i, "op_name": n, "inputs": np.array(a), "outputs": np.array(b)}
                    for i, (n, a, b) in enumerate(ops)]

    def _get_ops_details(self):
        return self.ops


def test_partition_report_on_a_split_graph():
    # t0 -conv-> t1 -conv-> t2 -SOFTMAX(cpu)-> t3 -conv-> t4 ; weights t9 feed the first conv
    interp = _FakeInterpreter([
        ("CONV_2D", [0, 9], [1]),
        ("CONV_2D", [1], [2]),
        ("SOFTMAX", [2], [3]),
        ("CONV_2D", [3], [4]),
        ("DELEGATE", [0, 9], [2]),  # first partition: ops 0 and 1
        ("DELEGATE", [3], [4]),  # second partition: op 3
    ])
    assert undelegated_ops(interp) == ["SOFTMAX#2"]


def test_partition_report_when_a_partition_reads_a_tensor_from_before_the_cpu_op():
    # t0 -conv-> t1 -HARD_SWISH(cpu)-> t2; add(t2, t0) -> t3: the second partition's inputs
    # (t2, t0) lie before the CPU op and its output after it, yet the op is not in it
    interp = _FakeInterpreter([
        ("CONV_2D", [0], [1]),
        ("HARD_SWISH", [1], [2]),
        ("ADD", [2, 0], [3]),
        ("DELEGATE", [0], [1]),
        ("DELEGATE", [2, 0], [3]),
    ])
    assert undelegated_ops(interp) == ["HARD_SWISH#1"]
    cov = coverage(interp)
    assert (cov.ops, cov.partitions, cov.delegated_ops) == (3, 2, 2)
    assert cov.summary() == "2 partitions, 2/3 ops; on the CPU's built-in kernels: HARD_SWISH"


def test_cli_names_the_ops_left_on_the_cpu(oracle_tflite, noop_delegate, capsys):
    from gaussian_vector.cli.infer import main

    takeo = rf.REPO / "python" / "gaussian_vector" / "samples" / "takeo.ppm"
    assert main([str(takeo), "--model", str(oracle_tflite), "--delegate", str(noop_delegate),
                 "--box", "30,85,125,172", "--json", "-"]) == 0
    cap = capsys.readouterr()
    assert "4 op(s) not taken by the delegate run on the CPU: MEAN#0, RESHAPE#1" in cap.err
    assert '"cpu_ops": ["MEAN#0", "RESHAPE#1", "MUL#2", "ADD#3"]' in cap.out
