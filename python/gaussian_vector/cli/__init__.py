"""Console entry points: gv-train and gv-eval (gv-infer lives beside them)."""
