"""The embedded engine: installable tools (yosys, graywolf, qrouter, magic, KLayout, netgen,
OpenSTA) driven from Python, one module per flow step.

Contract between the engine and the SiliconCompiler task layer (``flow/tasks``): each step module
exposes ``run(ctx: StepContext) -> dict[str, float | int | str]`` that reads its input views
from ``ctx.inputs_dir``, writes its output views to ``ctx.outputs_dir`` and its reports to
``ctx.reports_dir``, and returns the metrics it measured. Views are named as SiliconCompiler
names them, ``<top>.<ext>``: ``.v`` RTL, ``.sdc``, ``.vg`` gate netlist, ``.def``, ``.gds``,
``.spice`` extracted layout, ``.spef`` parasitics. A step never reads another step's internals,
only these files, so every step can also run standalone on a folder (``StepContext.standalone``).
"""
