"""SiliconCompiler task classes of the embedded engine (one per flow step, see ``steps``)."""

from flow.tasks.base import EngineTask
from flow.tasks.steps import ALL_TASKS, CHECK_TASKS, LAYOUT_TASKS, StaTask, SynTask

__all__ = ["ALL_TASKS", "CHECK_TASKS", "LAYOUT_TASKS", "EngineTask", "StaTask", "SynTask"]
