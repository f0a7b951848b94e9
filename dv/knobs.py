"""Run parameters passed from pytest/``dv.sim`` to the cocotb process through the environment.

The simulator runs in a separate process, so the only channel is environment variables; they are
collected here with their defaults so both sides agree on names.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from design.config import GqmvConfig

PREFIX = "GQMV_"


@dataclass(frozen=True)
class Knobs:
    params: dict                 # GqmvConfig.params() of the simulated RTL
    items: int = 8               # random transactions per random sequence
    seed: int = 1
    backpressure: bool = True    # random stalls on every stream
    max_rows: int = 16           # largest N in random items
    out_dir: str = "build/dv/run"  # coverage and reports of this run
    weights: str = ""            # model checkpoint (.npz) for the real-weights sequence
    layers: str = ""             # comma-separated layer names (empty: all)
    prompt: str = ""             # headline: prompt token ids, comma-separated

    def config(self) -> GqmvConfig:
        return GqmvConfig.from_params(self.params)

    def to_env(self) -> dict[str, str]:
        env = {}
        for key, value in asdict(self).items():
            env[PREFIX + key.upper()] = json.dumps(value)
        return env

    @classmethod
    def from_env(cls) -> Knobs:
        kwargs = {}
        for key in cls.__dataclass_fields__:
            raw = os.environ.get(PREFIX + key.upper())
            if raw is not None:
                kwargs[key] = json.loads(raw)
        if "params" not in kwargs:
            raise RuntimeError(f"{PREFIX}PARAMS is not set: run the testbench through dv.sim")
        return cls(**kwargs)

    def out_path(self) -> Path:
        path = Path(self.out_dir)
        path.mkdir(parents=True, exist_ok=True)
        return path
