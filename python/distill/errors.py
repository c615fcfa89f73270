"""The one exception type for problems a user can cause and fix.

Its message names the file, the line when there is one, and what to do; the CLI prints it as
one line on stderr and exits non-zero.
"""


class DistillError(Exception):
    pass
