"""gaussian-vector: Gaussian Vector facial landmarks from training to an embedded NPU.

The base package needs numpy only; torch is imported lazily by the training and model modules,
so the on-device runtime runs where no torch exists.
"""

__version__ = "0.1.0"
