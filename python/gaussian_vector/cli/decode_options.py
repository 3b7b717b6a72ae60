"""The decode options, added one way to gv-eval and gv-infer: one option per rule of
`decode_rules.OPTIONS`, read back as the changes to make to each model's own rules, and
`--flip-test` (each face also read from its mirror image: `gaussian_vector.flip_test`)."""

from __future__ import annotations

import argparse

from ..console.argtypes import positive_float
from ..decode_rules import OPTIONS


def add_decode_options(parser: argparse.ArgumentParser) -> None:
    """The options of `decode_rules.OPTIONS`, each into `args.<field>`: None (not given)
    leaves the model's own value."""
    for flag, field, kind, help in OPTIONS:
        if kind == "off":
            parser.add_argument(flag, dest=field, action="store_const", const=False, help=help)
        elif kind == "positive":
            parser.add_argument(flag, dest=field, type=positive_float, help=help)
        else:
            parser.add_argument(flag, dest=field, choices=kind, help=help)
    parser.add_argument("--flip-test", action="store_true",
                        help="also read each face from its mirror image and average the two "
                        "readings: more accurate (3.20%% -> 3.15%% ION on the 300-W validation "
                        "split with the default model), twice the model's forward passes")


def rule_changes(args: argparse.Namespace) -> dict[str, object]:
    """The decode options given, as changes to a model's own rules (None: keep its value)."""
    return {field: getattr(args, field) for _, field, _, _ in OPTIONS}
