"""Progress while dbt works: the stage, the node, elapsed time and nodes done, on a terminal only."""

import time

from rich.console import Console
from rich.live import Live
from rich.text import Text

from distill.receipts import MODEL_STAGES


class NodeProgress:
    """A dbt node listener that draws one live status line; does nothing when disabled."""

    def __init__(self, enabled: bool, console: Console) -> None:
        self.enabled = enabled
        self.console = console
        self.started = time.monotonic()
        self.done = 0
        self.failed = 0
        self.current = ""
        self.live: Live | None = None

    def __enter__(self) -> "NodeProgress":
        if self.enabled:
            self.live = Live(self._render(), console=self.console, transient=True, refresh_per_second=8)
            self.live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.live is not None:
            self.live.__exit__(*exc)

    def __call__(self, event: str, node: str, status: str) -> None:
        if event == "NodeStart":
            self.current = node
        elif event == "NodeFinished":
            self.done += 1
            self.failed += status in ("error", "fail")
        if self.live is not None:
            self.live.update(self._render())

    def _render(self) -> Text:
        materializes = self.current.startswith(("stg_", "base_", "trace_"))
        stage = MODEL_STAGES.get(self.current, "materialize" if materializes else "")
        elapsed = time.monotonic() - self.started
        failed = f", {self.failed} failed" if self.failed else ""
        return Text(f"⠿ {elapsed:5.1f}s  {self.done} nodes done{failed}  {stage}: {self.current}")
