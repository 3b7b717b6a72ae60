"""Landmark data: readers for 300-W, WFLW and COFW layouts (torch-free), and the torch Dataset
that crops and augments a sample with one affine warp (`gaussian_vector.data.dataset`)."""

from .readers import (
    ReadSummary,
    Sample,
    read_300w,
    read_cofw_mat,
    read_pts,
    read_wflw,
    write_pts,
)

__all__ = [
    "ReadSummary",
    "Sample",
    "read_300w",
    "read_cofw_mat",
    "read_pts",
    "read_wflw",
    "write_pts",
]
