"""Model files: the exported formats (`formats`, one table), reading a file's gaussian-vector
metadata (`reader`) and running it in its interpreter (`interpreters`, the per-format
`tflite_files` and `onnx_files`, `delegates`), the shipped files (`shipped`) and the errors
(`errors`). The floor that the landmark runtime, the face detector, evaluation, export and
gv-bench all stand on; numpy and one interpreter, never torch."""
