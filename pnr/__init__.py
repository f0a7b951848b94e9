"""Physical implementation: design configs, the embedded engine, and the SiliconCompiler flow."""
