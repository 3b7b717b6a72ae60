"""gv-bench: latency, transmission and size of Gaussian Vector models against the heatmap
baseline, and the native decoder's microbenchmark (`gv-bench decode`)."""
