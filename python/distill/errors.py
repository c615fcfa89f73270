"""The one exception type for problems a user can cause and fix.

Its message names the file, the line when there is one, and what to do; the CLI prints it as
one line on stderr and exits non-zero.
"""

import errno


class DistillError(Exception):
    pass


# What to do about the operating-system errors a run can meet on its files.
_ADVICE = {
    errno.ENOSPC: "the disk is full: free space and rerun",
    errno.EDQUOT: "the disk quota is used up: free space and rerun",
    errno.EFBIG: "a file hit the size limit (a full disk or `ulimit -f`): free space or raise the limit, and rerun",
    errno.EROFS: "the file system is read-only: make it writable or pass another --home",
    errno.EACCES: "permission denied: fix the permissions or run as the home's owner",
    errno.EPERM: "operation not permitted: fix the permissions or run as the home's owner",
}


def os_problem(exc: OSError, where: object) -> str:
    """One line for an OSError: the path (its own, else `where`), the error and what to do."""
    path = exc.filename or where
    advice = _ADVICE.get(exc.errno or 0, "check the file and rerun")
    return f"{path}: {exc.strerror or exc}; {advice}"
