"""Hand-made tiny models for the runtime tests: an "oracle" GV model whose output ignores the
image and encodes landmarks at known vector-grid coordinates, exported to ONNX (onnx.helper) and
TFLite (litert-torch), with our metadata written through `gaussian_vector.metadata`. Test
fixtures only: they use torch/onnx, the runtime under test does not.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gaussian_vector.config import ModelConfig
from gaussian_vector.decode_rules import DecodeRules
from gaussian_vector.labels import VectorLabel
from gaussian_vector.metadata import GV_LAYOUT, KEY, ModelMetadata, TensorSpec

REPO = Path(__file__).resolve().parents[1]
SIZE = 64  # input 64 -> vectors of 16: tiny and fast
K = 5


def oracle_config() -> ModelConfig:
    return ModelConfig(input_size=SIZE, num_landmarks=K, subpixel="quarter")  # pinned rules


def oracle_points() -> np.ndarray:
    """Vector-grid coordinates (K, 2) the oracle encodes; the last one lies beyond the box."""
    return np.array([[3.3, 4.8], [8.0, 8.2], [12.6, 5.1], [7.4, 13.7], [-1.2, 6.0]])


def oracle_vectors(cfg: ModelConfig) -> np.ndarray:
    """Packed (1, K, W + H) float32 vector labels of `oracle_points`."""
    o = cfg.output_size
    lab = VectorLabel(width=o, height=o, sigma=cfg.sigma, theta=cfg.theta)
    x, y = lab.encode(oracle_points())
    return np.concatenate([x, y], axis=-1)[None].astype(np.float32)


def metadata(cfg: ModelConfig, layout: str, dtype: str = "float32", out_q=(None, None),
             in_q=(None, None)) -> ModelMetadata:
    s, o = cfg.input_size, cfg.output_size
    in_shape = (1, s, s, 3) if layout == "NHWC" else (1, 3, s, s)
    return ModelMetadata(
        config=cfg,
        input=TensorSpec(in_shape, dtype, layout, *in_q),
        output=TensorSpec((1, cfg.num_landmarks, 2 * o), dtype, GV_LAYOUT, *out_q),
    )


def write_oracle_onnx(path: Path, with_metadata: bool = True,
                      config: ModelConfig | None = None) -> Path:
    """ONNX: out = const + 0 * mean(image), batch axis dynamic; `config` (default
    `oracle_config()`) goes into the metadata, the vectors are always the oracle's."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    vec = oracle_vectors(oracle_config())
    cfg = config or oracle_config()
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["m"], keepdims=1, axes=[1, 2, 3]),
        helper.make_node("Reshape", ["m", "shape"], ["m3"]),
        helper.make_node("Mul", ["m3", "zero"], ["z"]),
        helper.make_node("Add", ["z", "vec"], ["y"]),
    ]
    inits = [
        numpy_helper.from_array(np.array([-1, 1, 1], np.int64), "shape"),
        numpy_helper.from_array(np.zeros((1, 1, 1), np.float32), "zero"),
        numpy_helper.from_array(vec, "vec"),
    ]
    graph = helper.make_graph(
        nodes, "oracle",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", K, vec.shape[-1]])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    if with_metadata:
        helper.set_model_props(model, {KEY: metadata(cfg, "NCHW").to_json()})
    onnx.save(model, path)
    return path


def write_heatmap_onnx(path: Path) -> Path:
    """A heatmap-baseline oracle: (N, K, H, W) maps with one peak each at `heatmap_peaks()`."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from gaussian_vector.metadata import HEATMAP_LAYOUT

    cfg = ModelConfig(head="heatmap", input_size=SIZE, num_landmarks=K, subpixel="quarter")
    o = cfg.output_size
    maps = np.zeros((1, K, o, o), np.float32)
    for k, (c, r) in enumerate(heatmap_peaks()):
        maps[0, k, r, c] = 1.0
        maps[0, k, r, c + 1] = 0.5  # right neighbour larger than left: +0.25 shift in x
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["m"], keepdims=1, axes=[1, 2, 3]),
        helper.make_node("Mul", ["m", "zero"], ["z"]),
        helper.make_node("Add", ["z", "maps"], ["y"]),
    ]
    inits = [numpy_helper.from_array(np.zeros((1, 1, 1, 1), np.float32), "zero"),
             numpy_helper.from_array(maps, "maps")]
    graph = helper.make_graph(
        nodes, "heatmap_oracle",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", K, o, o])], inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    meta = ModelMetadata(
        config=cfg,
        input=TensorSpec((1, 3, SIZE, SIZE), "float32", "NCHW"),
        output=TensorSpec((1, K, o, o), "float32", HEATMAP_LAYOUT),
    )
    helper.set_model_props(model, {KEY: meta.to_json()})
    onnx.save(model, path)
    return path


def heatmap_peaks() -> list[tuple[int, int]]:
    """(column, row) of each oracle heatmap's peak."""
    return [(2, 3), (7, 8), (12, 4), (5, 13), (9, 1)]


def add_tflite_metadata(data: bytes, name: str, text: str) -> bytes:
    """Return the .tflite flatbuffer with a `Model.metadata` entry `name` -> `text` added."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    buf = schema.BufferT()
    buf.data = np.frombuffer(text.encode(), np.uint8)
    model.buffers.append(buf)
    entry = schema.MetadataT()
    entry.name = name
    entry.buffer = len(model.buffers) - 1
    model.metadata = [*(model.metadata or []), entry]
    b = flatbuffers.Builder(len(data) + 1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def write_oracle_tflite(path: Path, with_metadata: bool = True) -> Path:
    """TFLite via litert-torch: out = const + 1e-9 * mean(image), NHWC input, batch of one."""
    import litert_torch
    import torch

    cfg = oracle_config()
    vec = torch.from_numpy(oracle_vectors(cfg))

    class Oracle(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return vec + 1e-9 * x.mean(dim=(1, 2, 3)).reshape(-1, 1, 1)

    edge = litert_torch.convert(Oracle().eval(), (torch.zeros(1, SIZE, SIZE, 3),))
    edge.export(str(path))
    if with_metadata:
        data = add_tflite_metadata(path.read_bytes(), KEY, metadata(cfg, "NHWC").to_json())
        path.write_bytes(data)
    return path


# ---------------------------------------------------------------------------- pytest fixtures
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def oracle_onnx(tmp_path_factory) -> Path:
    return write_oracle_onnx(tmp_path_factory.mktemp("oracle") / "oracle.onnx")


@pytest.fixture(scope="session")
def oracle_tflite(tmp_path_factory) -> Path:
    pytest.importorskip("litert_torch")
    return write_oracle_tflite(tmp_path_factory.mktemp("oracle") / "oracle.tflite")


@pytest.fixture(scope="session")
def foreign_tflite(tmp_path_factory, oracle_tflite) -> Path:
    """A valid .tflite without our metadata: the oracle minus its metadata entry."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(oracle_tflite.read_bytes()), 0)
    model.metadata = [m for m in (model.metadata or []) if m.name not in (KEY, KEY.encode())]
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    p = tmp_path_factory.mktemp("foreign") / "foreign.tflite"
    p.write_bytes(bytes(b.Output()))
    return p


@pytest.fixture(scope="session")
def foreign_onnx(tmp_path_factory) -> Path:
    return write_oracle_onnx(tmp_path_factory.mktemp("foreign") / "foreign.onnx",
                             with_metadata=False)


def expected_landmarks(box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What the runtime must return for the oracle and `box`: the reference decode of the
    oracle's vectors, mapped through the inverse crop affine; and the peaks."""
    from gaussian_vector import affine, decode

    cfg = oracle_config()
    v = oracle_vectors(cfg)[0]
    x, y = decode.split_packed(v, cfg.output_size)
    xy, peaks = decode.decode_vectors(x, y, DecodeRules.of(cfg))
    m = affine.crop_transform(box, cfg.input_size, cfg.enlarge)
    return affine.apply(affine.invert(m), affine.heatmap_to_crop(xy, 4)), peaks
