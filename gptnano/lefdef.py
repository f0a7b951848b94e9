"""LEF and DEF read through KLayout's LEF/DEF reader (``klayout.db``), in the core.

The project reads LEF and DEF with one kept library, KLayout's LEF/DEF reader (installed with
the flow's KLayout DRC), not with hand-written parsers, and both loaders live here so every
layer shares one module: :func:`read_lef_layout` is the cell LEF as a KLayout layout (the
engine's :mod:`pnr.engine.lef` turns it into macros), and result readers that only need a DEF's
placement (the dashboard's density map, ``reports.layout``) use :func:`read_def_placement`, so
they need no step library.

How KLayout gives a LEF back (:func:`read_lef_layout`): each macro is a cell whose ``SIZE`` is
its outline box on the ``OUTLINE`` layer, whose pin ports land on ``<layer>.PIN`` layers
(:data:`PIN_SUFFIX`) with the pin name as the :data:`PIN_PROPERTY` shape property, and whose
``OBS`` land on ``<layer>.OBS`` layers (:data:`OBS_SUFFIX`); the database unit is 1 nm.

How KLayout gives a DEF back: the die area is a polygon on the ``OUTLINE`` layer, each placed
component (``PLACED``/``FIXED``/``COVER``; ``UNPLACED`` ones are left out) an instance of a cell
named after its macro, with the component name as a property. No LEF is read: each macro is
then an empty placeholder cell, so the instance's displacement is the DEF location itself for
every orientation (with a LEF, KLayout would shift a flipped cell by its size). Only
components and the die are produced (no routing, vias, pins, fills), and the "macro not found
in LEF" warnings that the missing LEF causes are silenced (``warn_level`` 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

OUTLINE = "OUTLINE"
PIN_SUFFIX = ".PIN"
OBS_SUFFIX = ".OBS"
PIN_PROPERTY = "pin"
INSTANCE_PROPERTY = "component"
_NOT_PRODUCED = ("produce_routing", "produce_special_routing", "produce_via_geometry",
                 "produce_pins", "produce_lef_pins", "produce_labels", "produce_lef_labels",
                 "produce_fills", "produce_blockages", "produce_obstructions",
                 "produce_placement_blockages", "produce_regions")


class LefError(ValueError):
    """The LEF file is not in the shape its reader expects (the message names file and line)."""


class DefError(ValueError):
    """The DEF file cannot be read or lacks what is asked of it (the message names the file)."""


@dataclass(frozen=True)
class Component:
    name: str
    macro: str
    x: int  # DEF location (lower-left of the placed cell), database units
    y: int


@dataclass(frozen=True)
class DefPlacement:
    die: tuple[int, int, int, int]  # x0, y0, x1, y1 of the DIEAREA's bounding box, database units
    units_per_um: int               # database units per µm (the DEF's UNITS DISTANCE MICRONS)
    components: list[Component]     # in KLayout's instance order


def read_def_placement(path: Path, units_per_um: int = 1000) -> DefPlacement:
    """The die box and the placed components of the DEF file ``path``, in database units of
    ``1/units_per_um`` µm (the project's DEFs use 1000: nanometres, so coordinates are exact)."""
    import klayout.db as kdb

    if not path.is_file():
        raise DefError(f"{path}: no such DEF file")
    options = kdb.LoadLayoutOptions()
    options.warn_level = 0
    config = options.lefdef_config
    config.dbu = 1.0 / units_per_um
    config.read_lef_with_def = False
    config.instance_property_name = INSTANCE_PROPERTY
    config.cell_outline_layer = OUTLINE
    for flag in _NOT_PRODUCED:
        setattr(config, flag, False)
    layout = kdb.Layout()
    try:
        layout.read(str(path), options)
    except RuntimeError as exc:  # KLayout's message names line and file
        raise DefError(f"{path}: KLayout cannot read the DEF: {exc}") from exc
    top = layout.top_cell() if layout.cells() else None
    outline = next((i for i in layout.layer_indexes() if layout.get_info(i).name == OUTLINE),
                   None)
    if top is None or outline is None or top.shapes(outline).is_empty():
        raise DefError(f"{path}: no DIEAREA statement")
    box = top.bbox(outline)
    components = [Component(str(inst.property(INSTANCE_PROPERTY)), inst.cell.name,
                            inst.trans.disp.x, inst.trans.disp.y)
                  for inst in top.each_inst()]
    return DefPlacement((box.left, box.bottom, box.right, box.top), units_per_um, components)


def read_lef_layout(path: Path):  # -> klayout.db.Layout (no type stubs)
    """``path`` read by KLayout's LEF reader at 1 nm: outlines, pin shapes named by property,
    OBS (see the module docstring for the layers)."""
    import klayout.db as kdb

    options = kdb.LoadLayoutOptions()
    config = options.lefdef_config
    config.dbu = 0.001  # 1 nm: the engine's integer unit
    config.produce_cell_outlines = True
    config.cell_outline_layer = OUTLINE
    config.produce_lef_pins = True
    config.lef_pins_suffix = PIN_SUFFIX
    config.pin_property_name = PIN_PROPERTY
    config.produce_obstructions = True
    config.obstructions_suffix = OBS_SUFFIX
    config.produce_lef_labels = False
    layout = kdb.Layout()
    try:
        layout.read(str(path), options)
    except RuntimeError as exc:  # KLayout's message names line, cell and file
        line = str(exc).split("(line=", 1)[-1].split(",", 1)[0]
        where = f"{path}:{line}" if line.isdigit() else str(path)
        raise LefError(f"{where}: KLayout cannot read the LEF: {exc}") from exc
    return layout
