"""The step contract, re-exported for the engine modules (it lives in :mod:`gptnano.step`,
the core, because the signoff checks and DFT run on the same contract)."""

from gptnano.step import StepContext, StepError

__all__ = ["StepContext", "StepError"]
