"""The RFC 8785 canonical form of a JSON line and its sha256 (`sig_hash`, docs/design.md, "Provenance and determinism").

orjson with sorted keys is exact whenever a row has no floats, no integers beyond 2^53 and no
characters outside the Basic Multilingual Plane; every other row takes the exact `rfc8785` path.
Which path a line takes is decided for a whole batch at once (Arrow's RE2, in C++).
"""

import hashlib
import json
from collections.abc import Iterable
from itertools import repeat

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import rfc8785

# Integers beyond this are not exact as IEEE doubles; ECMAScript's JSON.parse reads them as
# doubles, so the canonical form does too (9007199254740993 hashes as 9007199254740992).
_SAFE_INTEGER = 2**53 - 1

# A number token with a fraction or exponent, an integer of 16+ digits, a surrogate escape or
# a character outside the BMP (UTF-16 key order differs from code-point order only there).
# RE2 syntax: matched by Arrow over a whole batch of lines at once.
_NEEDS_EXACT = r"(?:^|[:\[,])\s*-?\d+(?:[.eE]|\d{15})|\\u[dD][89abAB]|[\x{10000}-\x{10FFFF}]"


def _needs_exact(lines: pa.Array | pa.ChunkedArray) -> list[bool | None]:
    """For each line, whether only the exact path canonicalizes it."""
    return pc.match_substring_regex(lines, _NEEDS_EXACT).to_pylist()


def _parse_int(token: str) -> int | float:
    value = int(token)
    return value if -_SAFE_INTEGER <= value <= _SAFE_INTEGER else float(value)


def canonical_json(line: str, needs_exact: bool | None = None) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of one JSON text; ValueError if it is not I-JSON.
    needs_exact: whether the line has a float, a big integer or a non-BMP character (None: look)."""
    if needs_exact is None:
        try:
            needs_exact = _needs_exact(pa.array([line], pa.string()))[0]
        except (pa.ArrowException, UnicodeEncodeError):
            needs_exact = True  # not UTF-8 encodable (a lone surrogate): the exact path decides
    if not needs_exact:
        try:
            return orjson.dumps(orjson.loads(line), option=orjson.OPT_SORT_KEYS)
        except orjson.JSONDecodeError:
            pass  # orjson is stricter (lone surrogates); the exact path decides
    try:
        value = json.loads(line, parse_int=_parse_int)
        return rfc8785.dumps(value)
    except (ValueError, rfc8785.CanonicalizationError, UnicodeEncodeError, RecursionError) as exc:
        raise ValueError(f"not canonicalizable JSON: {exc}") from None


def sig_hash(line: str) -> str:
    """sha256 (lowercase hex) of the canonical form of one JSON line."""
    return hashlib.sha256(canonical_json(line)).hexdigest()


def sig_hashes(lines: Iterable[str | None], exact: Iterable[bool | None] | None = None) -> list[str | None]:
    """sig_hash of each line; None for a null or non-canonicalizable line."""
    out: list[str | None] = []
    sha256 = hashlib.sha256
    for line, needs_exact in zip(lines, exact if exact is not None else repeat(None)):
        try:
            out.append(None if line is None else sha256(canonical_json(line, needs_exact)).hexdigest())
        except ValueError:
            out.append(None)
    return out


def sig_hash_arrow(lines: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The vectorised form DuckDB calls: one Arrow batch of lines in, one of hashes out."""
    return pa.array(sig_hashes(lines.to_pylist(), _needs_exact(lines)), type=pa.string())
