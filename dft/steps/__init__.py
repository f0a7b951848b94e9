"""DFT flow steps, each a module with ``run(ctx) -> metrics`` (the ``pnr.engine`` contract).

Order and views (``<top>.<ext>`` in ``inputs/`` -> ``outputs/``):

* ``cut``:   ``vg`` -> ``cut.v`` (Fault ``cut``: flops become pseudo inputs/outputs)
* ``atpg``:  ``cut.v`` + ``vg`` -> ``tv.json`` (SAT ATPG, Fault TVInfo format)
* ``chain``: ``vg`` -> ``vg`` scan-inserted + ``scan.json`` (chain order) + ``sdc`` tie-off
* ``asm``:   ``tv.json`` + ``scan.json`` -> ``patterns.json`` / ``patterns.txt`` (chain streams)

Every step also copies the views it does not change (``PASSTHROUGH``) so the next step, and
floorplan after the last one, find them in its own inputs.
"""
