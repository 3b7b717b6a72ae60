"""Ethos-U NPU report: compile the int8 .tflite with vela (pip: ethos-u-vela) and read its
summary and per-layer CSVs: ops on the NPU, estimated cycles and time, memory traffic, and the
share of cycles spent after the decoder (for GV: the Band Pooling Module and the output layout;
for the heatmap baseline: the output layout only)."""

from __future__ import annotations

import csv
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from gaussian_vector.heads import HEADS

from .errors import ExportError, require

BPM_MARK = "_bpm"  # tensor names of ops inside the wrapper's `bpm` module contain this
HEAD_MARK = "Conv2d_head"


@dataclass
class VelaReport:
    accelerator: str
    system_config: str
    ops_total: int
    ops_npu: int
    cpu_ops: list[str]
    cycles: float
    time_ms: float
    macs: float
    sram_bytes: float
    dram_bytes: float
    flash_bytes: float
    sram_used_kib: float
    tail_cycles: float
    tail_ops: list[tuple[str, float]] = field(default_factory=list)

    @property
    def npu_share(self) -> float:
        return self.ops_npu / self.ops_total if self.ops_total else 0.0

    @property
    def tail_share(self) -> float:
        return self.tail_cycles / self.cycles if self.cycles else 0.0

    def lines(self, head: str) -> list[str]:
        """The report for a model of `head` (a `ModelConfig.head`), printed by gv-export."""
        what = HEADS[head].graph_tail
        out = [
            f"vela {self.accelerator} ({self.system_config}):",
            f"  ops on NPU     {self.ops_npu}/{self.ops_total} ({100 * self.npu_share:.1f}%)"
            + (f"; on CPU: {', '.join(sorted(set(self.cpu_ops)))}" if self.cpu_ops else ""),
            f"  estimate       {self.cycles:,.0f} cycles, {self.time_ms:.3f} ms, "
            f"{self.macs / 1e6:.1f} M MACs",
            f"  traffic        SRAM {self.sram_bytes / 2**20:.2f} MiB, DRAM "
            f"{self.dram_bytes / 2**20:.2f} MiB, flash {self.flash_bytes / 2**20:.2f} MiB; "
            f"SRAM used {self.sram_used_kib:.0f} KiB",
            f"  {what}: {self.tail_cycles:,.0f} cycles = {100 * self.tail_share:.2f}%",
        ]
        return out

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(npu_share=self.npu_share, tail_share=self.tail_share)
        return d


def check_accelerator(accelerator: str) -> None:
    """ExportError unless vela is installed and knows `accelerator` (checked before converting)."""
    require("ethosu.vela", "the NPU report")
    from ethosu.vela.architecture_features import Accelerator

    known = Accelerator.member_list()
    if accelerator not in known:
        raise ExportError(f"unknown vela accelerator {accelerator!r}; choose from "
                          f"{', '.join(known)}")


def run_vela(tflite: Path, accelerator: str = "ethos-u55-256",
             extra_args: list[str] | None = None) -> VelaReport:
    """Compile `tflite` with vela for `accelerator` and parse its CSV reports."""
    check_accelerator(accelerator)
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "ethosu.vela", str(tflite), "--accelerator-config",
               accelerator, "--output-dir", out, "--verbose-performance", *(extra_args or [])]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            last = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
            raise ExportError(f"vela failed on {tflite.name}: {last}")
        summary = next(Path(out).glob("*_summary_*.csv"), None)
        per_layer = next(Path(out).glob("*_per-layer.csv"), None)
        if summary is None or per_layer is None:
            raise ExportError(f"vela wrote no CSV reports for {tflite.name}")
        with open(summary, newline="") as f:
            s = next(csv.DictReader(f))
        with open(per_layer, newline="") as f:
            rows = list(csv.DictReader(f))
    return parse(s, rows, accelerator)


def tail_start(rows: list[dict]) -> int:
    """Index of the first op of the tail: the first BPM op that is not the full-map head conv
    (form "separable" runs the head inside the BPM module first), else the op after the head."""
    for i, r in enumerate(rows):
        if BPM_MARK in r["Name"]:
            return i + 1 if HEAD_MARK in r["Name"] else i
    heads = [i for i, r in enumerate(rows) if HEAD_MARK in r["Name"]]
    return heads[-1] + 1 if heads else len(rows)


def parse(s: dict, rows: list[dict], accelerator: str) -> VelaReport:
    """A VelaReport from vela's summary row and per-layer rows (execution order)."""
    def num(key: str) -> float:
        try:
            return float(s.get(key) or 0.0)
        except ValueError:
            return 0.0

    cycles = [float(r["Op Cycles"] or 0) for r in rows]
    start = tail_start(rows)
    cpu = [r["Original Operator"] for r in rows if r["Target"].strip().upper() != "NPU"]
    total = sum(cycles) or num("cycles_total")
    return VelaReport(
        accelerator=accelerator,
        system_config=s.get("system_config", "?"),
        ops_total=len(rows),
        ops_npu=len(rows) - len(cpu),
        cpu_ops=cpu,
        cycles=total,
        time_ms=num("inference_time") * 1e3,
        macs=num("nn_macs"),
        sram_bytes=num("sram_total_bytes"),
        dram_bytes=num("dram_total_bytes"),
        flash_bytes=num("off_chip_flash_total_bytes") + num("on_chip_flash_total_bytes"),
        sram_used_kib=num("sram_memory_used"),
        tail_cycles=sum(cycles[start:]),
        tail_ops=[(r["NNG Operator"], c) for r, c in zip(rows[start:], cycles[start:],
                                                         strict=True)],
    )
