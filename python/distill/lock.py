"""One run at a time per home: an advisory lock on data/.lock that names its holder.

The kernel releases a flock when its process dies, so a run killed with SIGKILL never leaves a
stale lock behind: the next run finds the file but not the lock, and takes over."""

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

from distill.errors import DistillError
from distill.home import Home, open_no_follow


def _holder(path) -> str:
    try:
        info = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return "another process"
    return f"pid {info.get('pid', '?')} (`{info.get('command', '?')}`, since {info.get('started_at', '?')})"


@contextmanager
def hold(home: Home, command: str, wait_s: float) -> Iterator[None]:
    """Hold the home's lock for the duration; wait up to wait_s for a holder to finish."""
    path = home.root / "data" / ".lock"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.fdopen(open_no_follow(path, os.O_RDWR | os.O_CREAT), "r+")
    except OSError as exc:
        raise DistillError(f"cannot create the lock {path}: {exc.strerror}; is the home writable?") from None
    deadline = time.monotonic() + wait_s
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise DistillError(
                        f"home {home.root} is busy: {_holder(path)} holds {path}; wait for it to finish "
                        "(or set DISTILL_LOCK_WAIT_S to wait longer)"
                    ) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        handle.write(json.dumps({"pid": os.getpid(), "command": command, "started_at": started}))
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock
