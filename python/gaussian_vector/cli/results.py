"""Where gv-infer's results go: a line of summary per file on the terminal, the whole JSON
document (`--json`), and JSON Lines written and flushed as each image or frame is done
(`--jsonl`), so that a run stopped with Ctrl-C (or killed) keeps every result it computed.
"-" as either path means stdout (the summary lines then stay off it)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO

STDOUT = "-"


def dump_json(model: dict, records: list[dict], interrupted: bool = False) -> str:
    """The results document, one line per image or frame (readable and diff-able).
    `interrupted`: the run was stopped before its last file, so `results` is what was done."""
    lines = ",\n  ".join(json.dumps(r) for r in records)
    return (f'{{"model": {json.dumps(model)},\n "interrupted": {json.dumps(interrupted)},\n'
            f' "results": [\n  {lines}\n ]}}\n')


def face_summary(faces: list[dict], timing_ms: dict) -> str:
    """'1 face, score 1.43 (12.1 ms)' / '30 faces, scores 0.71..1.52 (410.0 ms)'."""
    ms = sum(v for v in timing_ms.values() if isinstance(v, float))
    scores = [f["score"] for f in faces]
    if not scores:
        what = "no face"
    elif len(scores) == 1:
        what = f"1 face, score {scores[0]:.2f}"
    else:
        what = f"{len(scores)} faces, scores {min(scores):.2f}..{max(scores):.2f}"
    return f"{what} ({ms:.1f} ms)"


class ResultWriter:
    """Sends each finished record to the JSON Lines file at once and keeps it for the JSON
    document, written by `close` (at the end, or on an interrupt with what was done)."""

    def __init__(self, model: dict, json_path: Path | str | None = None,
                 jsonl_path: Path | str | None = None) -> None:
        self.model, self.json_path, self.jsonl_path = model, json_path, jsonl_path
        self.records: list[dict] = []
        self._jsonl: IO[str] | None = None
        if jsonl_path is not None:
            self._jsonl = (sys.stdout if str(jsonl_path) == STDOUT
                           else open(jsonl_path, "w", encoding="utf-8"))  # noqa: SIM115
            self._line({"model": model})

    @property
    def uses_stdout(self) -> bool:
        """Whether JSON goes to stdout (then the summary lines must not)."""
        return STDOUT in (str(self.json_path), str(self.jsonl_path))

    @property
    def files(self) -> list[str]:
        """The files results are written to, for the interrupt message."""
        return [str(p) for p in (self.jsonl_path, self.json_path)
                if p is not None and str(p) != STDOUT]

    def _line(self, obj: dict) -> None:
        assert self._jsonl is not None
        self._jsonl.write(json.dumps(obj) + "\n")
        self._jsonl.flush()

    def add(self, record: dict) -> None:
        self.records.append(record)
        if self._jsonl is not None:
            self._line(record)

    def close(self, interrupted: bool = False) -> None:
        """Write the JSON document (if asked) and close the JSON Lines file."""
        if self._jsonl is not None and self._jsonl is not sys.stdout:
            self._jsonl.close()
        self._jsonl = None
        if self.json_path is None:
            return
        text = dump_json(self.model, self.records, interrupted)
        if str(self.json_path) == STDOUT:
            sys.stdout.write(text)
        else:
            Path(self.json_path).write_text(text, encoding="utf-8")
