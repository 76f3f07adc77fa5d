"""Training of the transformer student: data and labels, training loop, calibration, ONNX export."""
