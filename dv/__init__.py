"""Verification of the GQMV accelerator: cocotb + pyuvm testbenches against model.integer_ops."""
