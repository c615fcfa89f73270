"""distill: a refinery that turns LLM execution traces into gated, traceable training data.

The data work happens in the dbt project next to this package; this package orchestrates it.
"""

__version__ = "0.1.0"
