"""Training loop: schedule, learning on real text, exact resume, checkpoint safety."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from model.corpus_tokens import token_ids
from model.gpt import GPT, load_config
from model.train import (
    TrainingTimeout,
    TrainSettings,
    estimate_val_loss,
    load_checkpoint,
    lr_at,
    train,
)


def _tiny(max_steps: int) -> tuple[GPT, TrainSettings]:
    cfg, tdict = load_config("tiny")
    s = TrainSettings.from_dict(tdict)
    s = replace(s, max_steps=max_steps, eval_interval=10, eval_batches=2,
                batch_size=8, warmup_steps=5)
    torch.manual_seed(s.seed)
    return GPT(cfg), s


def test_lr_schedule_warmup_cosine_on_steps() -> None:
    s = TrainSettings(lr=1e-3, min_lr=1e-4, warmup_steps=10, max_steps=110)
    assert lr_at(0, s) == pytest.approx(1e-4)
    assert lr_at(9, s) == pytest.approx(1e-3)
    assert lr_at(60, s) == pytest.approx(1e-4 + 0.5 * 9e-4 * (1 + math.cos(math.pi * 60 / 110)))
    assert lr_at(110, s) == pytest.approx(1e-4)
    with pytest.raises(ValueError, match="unknown"):
        TrainSettings.from_dict({"lr": 1.0, "lrr": 2.0})
    with pytest.raises(ValueError, match="unknown"):  # the old wall-time budget is gone
        TrainSettings.from_dict({"time_budget_s": 60.0})


def test_time_guard_fails_loudly_instead_of_shortening_the_run(tmp_path) -> None:
    model, s = _tiny(30)
    with pytest.raises(TrainingTimeout, match="guard"):
        train(model, replace(s, time_guard_s=0.0), tmp_path, desc="guarded")


def test_two_runs_with_the_same_settings_are_identical(tmp_path) -> None:
    """Same seeds and step budget -> the same weights, however long each step took."""
    a, s = _tiny(12)
    train(a, s, tmp_path / "a")
    b, _ = _tiny(12)
    train(b, s, tmp_path / "b")
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(pa, pb), name


def test_training_learns_and_writes_checkpoints(tmp_path) -> None:
    model, s = _tiny(40)
    before = estimate_val_loss(model, token_ids("val"), model.config.block_size, s)
    summary = train(model, s, tmp_path, desc="test")
    log = (tmp_path / "log.csv").read_text().split()
    assert len(log) == 4 and summary["steps"] == 40
    last_val = float(log[-1].split(",")[3])
    assert before > math.log(1024) - 0.1  # starts near the uniform model
    assert last_val < before - 0.6
    best, payload = load_checkpoint(tmp_path / "best.pt")
    assert payload["val_loss"] == pytest.approx(summary["best_val_loss"])
    assert best.num_params() == model.num_params()


def test_resume_reproduces_an_uninterrupted_run(tmp_path) -> None:
    straight, s = _tiny(20)
    train(straight, s, tmp_path / "a")

    class Stop(Exception):
        pass

    def crash(m: GPT) -> None:
        crash.n += 1  # type: ignore[attr-defined]
        if crash.n == 15:  # type: ignore[attr-defined]
            raise Stop

    crash.n = 0  # type: ignore[attr-defined]
    interrupted, _ = _tiny(20)
    with pytest.raises(Stop):
        train(interrupted, s, tmp_path / "b", after_step=crash)
    resumed, _ = _tiny(20)
    summary = train(resumed, s, tmp_path / "b", resume=True)  # continues from step 10
    assert summary["steps"] == 20
    for (n, a), b in zip(straight.state_dict().items(), resumed.state_dict().values(),
                         strict=True):
        assert torch.equal(a, b), n


def test_checkpoint_with_other_tokenizer_is_refused(tmp_path) -> None:
    model, s = _tiny(2)
    train(model, s, tmp_path)
    payload = torch.load(tmp_path / "best.pt", weights_only=False)
    payload["tokenizer_sha256"] = "0" * 64
    torch.save(payload, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="tokenizer"):
        load_checkpoint(tmp_path / "bad.pt")
    with pytest.raises(FileNotFoundError, match="make model"):
        load_checkpoint(tmp_path / "missing.pt")
