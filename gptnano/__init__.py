"""Shared plumbing of gpt-nano-asic: where the project, its build tree and the shared data live."""
