"""The paper's Table 9 (Xiong et al., ECCV 2020), printed beside our figures: MobileNetV3 on a
MediaTek MT6735 with an NN accelerator, heatmap against Gaussian Vector. Only the figures our
design documents quote are kept; network times were "about the same" for both."""

TABLE9 = {
    "device": "MediaTek MT6735 (ARM CPU + NN accelerator)",
    "heatmap": {"output_shape": (68, 64, 64), "transmission_ms": 0.311, "postprocess_ms": 2.039},
    "gv": {"output_shape": (68, 64, 2), "transmission_ms": 0.048, "postprocess_ms": 0.062},
    "total_saving": 0.26,
}
