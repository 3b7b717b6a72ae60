"""What is written once stays complete: every head of the registry has its network and its export
packing, and packs its network's output into the shape it exports; every model-file format has
its reader and backend module and its gv-export converter; every decode option sets a rule; the
native binding reads the rules' fields as DecodeRules declares them."""

from __future__ import annotations

import re
from dataclasses import fields
from importlib import import_module

import numpy as np
import pytest

from gaussian_vector.config import ModelConfig
from gaussian_vector.decode_rules import OPTIONS, SUBPIXEL_MODES, DecodeRules
from gaussian_vector.heads import HEADS, head_of
from gaussian_vector.modelfile.formats import FORMATS, format_of

TINY = {"input_size": 64, "width_mult": 0.5, "decoder_channels": 8, "num_landmarks": 5,
        "scheme": "300w68"}


def test_every_head_has_its_network_and_export_packing():
    """The head registry is the one list: ModelConfig accepts its names and no other, and each
    head has a network and an export packing gv_export knows."""
    for name in HEADS:
        assert ModelConfig(head=name, **TINY).head == name
    with pytest.raises(ValueError, match=re.escape(str(tuple(HEADS)))):
        ModelConfig(head="not-a-head", **TINY)
    pytest.importorskip("torch")
    from gaussian_vector.models.landmark_net import NETWORKS
    from gv_export.wrap import PACKINGS

    assert set(NETWORKS) == set(HEADS)
    assert {h.export_packing for h in HEADS.values()} <= set(PACKINGS)


@pytest.mark.parametrize("name", list(HEADS))
def test_each_head_packs_its_networks_output_into_its_exported_shape(name):
    torch = pytest.importorskip("torch")
    from gaussian_vector.models import build_model

    cfg = ModelConfig(head=name, **TINY)
    head = head_of(cfg)
    with torch.no_grad():
        out = build_model(cfg).eval()(torch.zeros(2, 3, 64, 64))
    parts = out if isinstance(out, tuple) else (out,)
    packed = head.pack([t.numpy() for t in parts])
    assert packed.shape == head.output_shape(2)
    assert len(parts) == len(head.label_keys)
    labels = head.encode(np.full((cfg.num_landmarks, 2), 8.0))
    assert tuple(labels) == head.label_keys
    xy, scores = head.decode(packed, DecodeRules.of(cfg))
    assert xy.shape == (2, cfg.num_landmarks, 2) and scores.shape == (2, cfg.num_landmarks)


@pytest.mark.parametrize("name", list(FORMATS))
def test_each_format_has_its_reader_backend_and_converter(name):
    fmt = FORMATS[name]
    module = import_module(f"gaussian_vector.modelfile.{fmt.module}")
    assert callable(module.metadata_entries) and callable(module.open_backend)
    assert format_of(f"x{fmt.suffix.upper()}") is fmt
    pytest.importorskip("torch")
    assert callable(import_module(f"gv_export.{name}_export").convert)


def test_each_decode_option_sets_a_rule():
    rule_fields = {f.name for f in fields(DecodeRules)}
    assert {field for _, field, _, _ in OPTIONS} <= rule_fields


def test_the_native_binding_reads_the_fields_decode_rules_declares():
    """The binding reads a `DecodeRules` by the names of `GV_VECTOR_PARAMS` (decode.hpp): the
    same fields in the same order with the same defaults, so a rule added on one side only
    fails here."""
    _native = pytest.importorskip("gaussian_vector._native")
    assert tuple(_native.RULE_DEFAULTS) == tuple(f.name for f in fields(DecodeRules))
    assert DecodeRules(**_native.RULE_DEFAULTS) == DecodeRules()


@pytest.mark.parametrize("mode", SUBPIXEL_MODES)
def test_each_subpixel_mode_decodes_natively_as_the_reference(mode):
    native = pytest.importorskip("gaussian_vector.native")
    from gaussian_vector import decode

    v = np.random.default_rng(0).normal(size=(2, 3, 16)).astype(np.float32)
    rules = DecodeRules(subpixel=mode)
    for got, want in zip(native.decode_packed(v, 8, rules), decode.decode_packed(v, 8, rules),
                         strict=True):
        np.testing.assert_array_equal(got, want)
