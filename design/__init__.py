"""The GQMV accelerator (group-wise quantized matrix-vector engine) in Amaranth HDL."""
