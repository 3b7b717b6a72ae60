"""Checkpoints: weights plus the `ModelConfig` that rebuilds the model and its pre-processing.

Format (a dict saved with torch.save): {"format": "gaussian-vector/1", "config": {...},
"state_dict": {...}, "epoch": int, "metrics": {...}} and, in training checkpoints, optimiser and
scheduler state under "train_state". Shipped models are named by alias (`default`, `heatmap`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import ModelConfig

if TYPE_CHECKING:
    import torch

FORMAT = "gaussian-vector/1"
MODELS_DIR = Path(__file__).parent / "weights"
#: Aliases every command that takes a model understands.
ALIASES = {"default": "gv_mnv3s_256.pt", "gv": "gv_mnv3s_256.pt", "heatmap": "hm_mnv3s_256.pt",
           "fast": "gv_mnv3s_192.pt"}


def resolve(model: str | Path) -> Path:
    """A path or an alias ('default', 'heatmap', 'fast') -> an existing file, else
    FileNotFoundError."""
    name = str(model)
    if name in ALIASES:
        path = MODELS_DIR / ALIASES[name]
        if not path.is_file():
            raise FileNotFoundError(f"the shipped model {name!r} is missing from {MODELS_DIR}")
        return path
    path = Path(name)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    return path


def save(path: str | Path, model: torch.nn.Module, config: ModelConfig, **extra: Any) -> None:
    """Write weights and config (plus any `extra` keys such as epoch, metrics, train_state)."""
    import torch

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "config": config.to_dict(), "state_dict": model.state_dict()}
    payload.update(extra)
    tmp = Path(str(path) + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)  # never leave a half-written checkpoint behind


def _gist(error: Exception) -> str:
    """One line of a torch.load error: its weights-only failures open with a paragraph about
    the `weights_only` default, and the cause comes after 'WeightsUnpickler error:'."""
    text = str(error)
    marker = "WeightsUnpickler error:"
    if marker in text:
        text = text.split(marker, 1)[1]
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[0].split(". ", 1)[0] if lines else type(error).__name__


def load_raw(path: str | Path) -> dict:
    """The checkpoint dict, validated, or ValueError naming what is wrong with the file."""
    import torch

    p = resolve(path)
    try:
        payload = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for corrupt files
        raise ValueError(f"{p} is not a readable gaussian-vector checkpoint (corrupt, truncated "
                         f"or another kind of file; torch.load: {_gist(e)})") from e
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{p} is not a gaussian-vector checkpoint (no '{FORMAT}' format tag)")
    return payload


def load(path: str | Path) -> tuple[torch.nn.Module, ModelConfig, dict]:
    """Rebuild the model in eval mode; returns (model, config, the raw checkpoint dict)."""
    from .models import build_model

    payload = load_raw(path)
    config = ModelConfig.from_dict(payload["config"])
    model = build_model(config)
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as e:
        raise ValueError(f"weights in {path} do not fit the model they describe: {e}") from e
    return model.eval(), config, payload
