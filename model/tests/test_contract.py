"""The integer contract is the same on every CPU (issue: reproducible shipped operands).

The shipped operands are derived from (checkpoint, stored calibration) with float64 elementwise
numpy and exact rationals only, so the derivation must give byte-identical integers whatever
kernel path torch and numpy take. Calibrating *again* runs float32 torch reductions whose last
bits do depend on the path: that is checked against tolerances, never for equality.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction

import pytest

from gptnano.paths import REPO_ROOT
from model import integer_ops as iops
from model.deployed import (
    CALIB_JSON,
    Drift,
    build_deployed,
    check_matches_shipped,
    contract_digest,
    fresh_calibration,
    integer_logits,
    recalibration_drift,
    stored_calibration,
)
from model.evaluate import evaluate
from model.quant import Calibration, CalibrationFileError, load_calibration, save_calibration

# A portable kernel path: torch's ATen without SIMD dispatch, oneDNN limited to SSE4.1, numpy
# on its baseline (X86_V2) only: every dispatch target above it disabled (numpy refuses to
# disable the baseline itself). Disabling only the AVX-512 targets left an AVX2-only CPU on
# the very same numpy path as the native run (seen on a CI machine, 7 Dec), so the test's
# premise -- two different kernel paths -- failed on the machine, not on the product.
PORTABLE_ENV = {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41",
                "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR"}
# Recalibration tolerances (also in model.deployed.Drift.problems) and the perplexity epsilon.
PPL_EPSILON = 0.002


def _derive(extra_env: dict[str, str], recalibrate: bool = False) -> dict:
    """``python -m model.deployed`` in a fresh process with ``extra_env``: its JSON report."""
    env = {k: v for k, v in os.environ.items() if k not in PORTABLE_ENV}
    env.update(extra_env)
    cmd = [sys.executable, "-m", "model.deployed"] + (["--recalibrate"] if recalibrate else [])
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def portable() -> dict:
    return _derive(PORTABLE_ENV, recalibrate=True)


def test_derivation_is_byte_identical_across_kernel_paths(portable) -> None:
    native = _derive({})
    # the two processes really ran different float kernels ...
    assert native["paths"]["torch"] != portable["paths"]["torch"], (native, portable)
    if "X86_V3" in native["paths"]["numpy"].split():  # a CPU with numpy dispatch above baseline
        assert native["paths"]["numpy"] != portable["paths"]["numpy"], (native, portable)
    # ... and derived the same integers, which are the shipped ones
    assert native["digest"] == portable["digest"]
    assert native["digest"] == contract_digest(build_deployed().integer)


def test_shipped_npz_is_derived_from_the_stored_calibration() -> None:
    check_matches_shipped(build_deployed().integer)


def test_recalibration_on_another_kernel_path_stays_within_tolerance(portable) -> None:
    drift = portable["drift"]
    assert drift["problems"] == [], drift
    assert drift["mult_lsb"] <= 1 and drift["bias_rel"] <= 1e-4 and drift["weights_changed"] == 0


def test_recalibration_here_within_tolerance_and_perplexity_epsilon(shipped, val_ids) -> None:
    stored = stored_calibration()
    fresh = fresh_calibration(shipped)
    for key, value in stored.absmax.items():  # a few ULP at most, never equality-checked
        assert fresh.absmax[key] == pytest.approx(value, rel=1e-5), key
    drift = recalibration_drift(shipped, stored, fresh)
    assert drift.problems() == [], drift
    block = shipped.config.block_size
    ppl = {}
    for name, calib in (("stored", stored), ("fresh", fresh)):
        integer = build_deployed(shipped, calib).integer
        ppl[name] = evaluate(lambda x, ig=integer: integer_logits(ig, x), val_ids, block,
                             max_windows=2).ppl
    assert abs(ppl["fresh"] / ppl["stored"] - 1) <= PPL_EPSILON, ppl


def test_drift_tolerances_can_fail() -> None:
    assert Drift(3, 1, 5e-5, 0, []).problems() == []
    problems = Drift(3, 2, 2e-4, 7, ["h0.mlp.c_fc"]).problems()
    assert len(problems) == 4 and "2 LSB" in problems[0]


def test_multiplier_rounding_is_exact_at_a_tie_boundary() -> None:
    # rationals are rounded exactly: no float product decides which side of .5 a value is on
    m, s = iops.quantize_multiplier([Fraction(43291, 4)])  # 10822.75 -> shift 2, 43291 exact
    assert (int(m[0]), s) == (43291, 2)
    m, s = iops.quantize_multiplier([Fraction(21645, 1) + Fraction(1, 2), Fraction(1)])
    assert s == 1 and int(m[0]) == 43291
    assert iops.round_half_even(Fraction(5, 2)) == 2 and iops.round_half_even(Fraction(7, 2)) == 4
    assert iops.floor_log2(Fraction(1, 3)) == -2 and iops.floor_log2(8) == 3
    assert iops.floor_log2(Fraction(8) - Fraction(1, 10**30)) == 2


def test_stored_calibration_round_trips_exactly(tmp_path) -> None:
    calib = Calibration(absmax={"a": 0.1, "b": 3.0000000000000004, "resid": 2.0**-30})
    path = save_calibration(calib, tmp_path / "c.json", checkpoint_sha256="x")
    back, about = load_calibration(path)
    assert back.absmax == calib.absmax and about["checkpoint_sha256"] == "x"


def test_calibration_file_errors_name_the_file(tmp_path, shipped) -> None:
    with pytest.raises(CalibrationFileError, match="not found"):
        load_calibration(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(CalibrationFileError, match="bad.json"):
        load_calibration(bad)
    other = tmp_path / "other.json"
    save_calibration(stored_calibration(), other, checkpoint_sha256="0" * 64)
    with pytest.raises(CalibrationFileError, match="belongs to checkpoint"):
        stored_calibration(path=other)
    assert load_calibration(CALIB_JSON)[1]["checkpoint_sha256"] != "0" * 64
