"""``make bench`` (model part): training and inference throughput on 2 CPU threads.

For each config: training tokens/s (forward + backward + AdamW step on random batches of the
config's batch size x block size), evaluation tokens/s (forward only), and for the shipped base
checkpoint the integer reference model's tokens/s (numpy, one block at a time). A warm-up step is
excluded; the median of the timed repetitions is reported. The machine may be shared: run it on
an idle machine for comparable numbers. Writes ``build/model/bench.json``.

    python -m model.bench [--steps 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch

from gptnano.paths import build_root
from model.gpt import GPT, load_config
from model.train import NUM_THREADS, TrainSettings, make_optimizer


def _median_time(fn, reps: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_config(name: str, steps: int) -> dict:
    cfg, tdict = load_config(name)
    s = TrainSettings.from_dict(tdict)
    torch.manual_seed(0)
    model = GPT(cfg)
    opt = make_optimizer(model, s)
    x = torch.randint(0, cfg.vocab_size, (s.batch_size, cfg.block_size))
    tokens = x.numel()

    def train_step() -> None:
        loss = model.loss(x, x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def eval_step() -> None:
        with torch.no_grad():
            model(x)

    model.train()
    t_train = _median_time(train_step, steps)
    model.eval()
    t_eval = _median_time(eval_step, steps)
    return {"config": name, "params": model.num_params(),
            "batch": f"{s.batch_size}x{cfg.block_size}", "train_tok_s": tokens / t_train,
            "eval_tok_s": tokens / t_eval,
            "train_step_s": t_train}


def bench_integer(reps: int) -> dict | None:
    from model.corpus_tokens import token_ids
    from model.deployed import BASE_CKPT, build_deployed

    if not BASE_CKPT.is_file():
        return None
    deployed = build_deployed()
    model, ig = deployed.model, deployed.integer
    block = model.config.block_size
    tokens = np.asarray(token_ids("val")[:block], dtype=np.int64)
    t = _median_time(lambda: ig.forward(tokens), reps)
    return {"config": "base (integer, numpy)", "params": model.num_params(),
            "batch": f"1x{block}", "train_tok_s": float("nan"), "eval_tok_s": block / t,
            "train_step_s": float("nan")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--steps", type=int, default=10, help="timed repetitions per measurement")
    args = ap.parse_args(argv)
    torch.set_num_threads(NUM_THREADS)
    rows = [bench_config("tiny", args.steps), bench_config("base", args.steps)]
    integer = bench_integer(max(3, args.steps // 3))
    if integer:
        rows.append(integer)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| config | params | batch | train tokens/s | eval tokens/s |")
    print("| --- | ---: | --- | ---: | ---: |")
    for r in rows:
        train = "-" if np.isnan(r["train_tok_s"]) else f"{r['train_tok_s']:,.0f}"
        print(f"| {r['config']} | {r['params']:,} | {r['batch']} | {train} | "
              f"{r['eval_tok_s']:,.0f} |")
    out = build_root() / "model" / "bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"threads": torch.get_num_threads(), "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
