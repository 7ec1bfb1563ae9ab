"""The Task interface: what one kind of run learns, and how it is trained, scored,
drawn and applied; importable without torch, so the command line reads it.

A task's name is what config.json records as "task"; aekit.tasks.TASKS maps each name
to its Task, and every caller looks the run's task up there instead of branching on
its name. A new task is one module implementing Task plus one line in TASKS.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import AekitError

if TYPE_CHECKING:
    from ..models.base import Model
    from ..run import Run
    from ..training.config import TrainConfig


@dataclass
class Prepared:
    """A model and its data, ready to train; nothing written yet."""

    task: str
    model_name: str
    model: Model
    train: Any  # Dataset or StreamDataset
    val: Any
    data_spec: dict[str, Any]  # how to read the data again: source, options, ...
    settings: dict[str, Any] | None = None  # what a task's inference needs


@dataclass(frozen=True)
class ApplyOption:
    """An option of a task's own command (`aekit segment --alpha`), argparse-free."""

    flag: str  # "--alpha"; a "--no-X" flag is a switch that turns X off
    help: str
    default: Any = None  # a number for a valued option

    @property
    def dest(self) -> str:
        name = self.flag.removeprefix("--")
        return name.removeprefix("no-").replace("-", "_")

    @property
    def is_switch(self) -> bool:
        return self.flag.startswith("--no-")


class Task(ABC):
    """One kind of run: its data pairs (input -> target), model settings (outputs,
    loss), metrics, pictures, and what applying it writes."""

    name: str = ""  # recorded in config.json as "task"
    summary: str = ""  # one line: what the model learns
    default_model: str | None = None  # None: chosen from the data
    train_options: tuple[str, ...] = ()  # options `train` reads for the task itself
    evaluate_options: tuple[str, ...] = ()  # the options its evaluation takes
    # the options its report reads (--data, picture options); None: all of them
    report_options: tuple[str, ...] | None = None
    command: str | None = None  # the command that applies a run (`aekit colorize`)
    command_help: str = ""
    inputs_help: str = ""
    out_help: str | None = None
    apply_options: tuple[ApplyOption, ...] = ()  # the command's own options

    @property
    def noun(self) -> str:
        """How messages name a run of this task."""
        return f"a {self.name} run"

    @abstractmethod
    def prepare(
        self, data: Any, model: str | None, options: dict[str, Any], config: TrainConfig
    ) -> Prepared:
        """The seeded model and its data; raises on any bad option, writes nothing."""

    @abstractmethod
    def reprepare(
        self, path: Path, record: dict[str, Any], config: TrainConfig, *, start: bool
    ) -> Prepared:
        """A recorded run's model (initial weights from its seed) and data again."""

    @abstractmethod
    def write_outputs(
        self,
        run: Run,
        prepared: Prepared,
        history: Any,
        *,
        pictures: bool,
        report: bool,
        fit_prior: bool,
    ) -> None:
        """What a finished training leaves in the run: metrics, pictures, report."""

    @abstractmethod
    def evaluate(self, run: Run, data: Any = None, **options: Any) -> dict[str, Any]:
        """The task's scores of a run, as a JSON-able dict."""

    @abstractmethod
    def write_report(self, run: Run, out: Path, **options: Any) -> Path:
        """The run's report.html at `out`."""

    def check_report_options(self, options: dict[str, Any], spell: Any = str) -> None:
        """Refuse report options this task's report does not read, each named as
        `spell` writes it (the CLI: its flag), instead of ignoring them."""
        allowed = self.report_options
        unread = sorted(
            k
            for k, v in options.items()
            if v is not None and allowed is not None and k not in allowed
        )
        if unread:
            raise AekitError(
                f"a {self.name} run's report shows its own held-out data; it takes "
                f"no {', '.join(spell(k) for k in unread)}"
            )

    def apply(self, run: Run, inputs: Any) -> list[Any]:
        """The run's outputs for `inputs`, one per input."""
        raise AekitError(f"{self.noun} is not applied to inputs by aekit.tasks")

    def write_applied(
        self, run: Run, inputs: Any, out: Path, names: list[str], **options: Any
    ) -> str:
        """Write what the task's command writes under `out`; returns what it wrote."""
        raise AekitError(f"{self.noun} has no command of its own")
