"""Dashboard plots: the Pareto plot's x axis stays readable for narrow and wide ranges."""

from __future__ import annotations

import warnings

import pandas as pd
from PIL import Image

from reports.plots import pareto_x_scale, plot_pareto


def points(xs: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"config": "l1_g2", "area_kind": "layout, signoff not passed",
                         "area_x_latency": xs, "val_ppl": [42.65 - 0.3 * k for k in range(len(xs))],
                         "variant": [f"v{k}" for k in range(len(xs))], "note": ""})


def test_x_scale_is_log_only_across_a_decade() -> None:
    # l1_g2's variants (core area x cycles/token) lie within 2.37e11..2.56e11: no major log tick
    assert pareto_x_scale(pd.Series([2.37e11, 2.56e11])) == "linear"
    assert pareto_x_scale(pd.Series([2.4e10, 2.56e11])) == "log"
    assert pareto_x_scale(pd.Series([2.56e11])) == "linear"
    assert pareto_x_scale(pd.Series([0.0, -1.0])) == "linear"  # nothing positive to log


def test_narrow_pareto_plot_is_drawn_without_warnings(tmp_path) -> None:
    with warnings.catch_warnings():  # the "x" marker of a failed layout warned on edgecolors
        warnings.simplefilter("error", UserWarning)
        path = plot_pareto(points([2.37e11, 2.56e11, 2.56e11]), tmp_path / "pareto.png")
    with Image.open(path) as image:
        assert image.size[0] > 400 and image.size[1] > 300
