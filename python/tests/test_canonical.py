import json

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

import pyarrow as pa

from distill.canonical import canonical_json, sig_hash, sig_hash_arrow, sig_hashes

# Canonical forms written out by hand (RFC 8785), with their sha256.
HAND_COMPUTED = [
    # key order, spacing and number spelling do not matter
    ('{ "b": [true, null, "x"], "a": 1 }', b'{"a":1,"b":[true,null,"x"]}',
     "eca8cfb31ab74533e1eb2f4c74d2d55dfe3c79ac704787e54be8647ea7777eb1"),
    ('{"a":1.0}', b'{"a":1}', "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"),
    ('{"a": 1E0}', b'{"a":1}', "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"),
    # keys sort by UTF-16 code units: U+1F600 (D83D DE00) before U+FB33
    ('{"\ufb33": 2, "\U0001F600": 1}', '{"\U0001F600":1,"\ufb33":2}'.encode(),
     "2aa3f5086e32bb90ce39c508a6f40fd72e792684f130d0f3b896ea191368f1e3"),
    # ECMAScript number form for large doubles
    ('{"x": 1, "n": 1e21}', b'{"n":1e+21,"x":1}',
     "6e703e238d638dad6a9c12bffbde9d572d3ac0a78794659ba0623b2412a93d49"),
]


@pytest.mark.parametrize(("line", "canonical", "digest"), HAND_COMPUTED)
def test_sig_hash_matches_hand_computed_canonical_form(line, canonical, digest):
    assert canonical_json(line) == canonical
    assert sig_hash(line) == digest


def _reference(line: str) -> str:
    """What the rfc8785 package gives, reading integers beyond 2^53 as doubles (as JSON.parse does)."""
    import hashlib

    def parse_int(token):
        value = int(token)
        return value if abs(value) <= 2**53 - 1 else float(value)

    return hashlib.sha256(rfc8785.dumps(json.loads(line, parse_int=parse_int))).hexdigest()


@pytest.mark.parametrize(
    "line",
    [
        '{"nested": {"z": {"b": 1, "a": [1, {"d": 4, "c": 3}]}}, "a": "top"}',
        '{"text": "caf\\u00e9 \u00fc\u00f1\u00ee \u4e2d\u6587 \U0001F680"}',
        '{"esc": "quote \\" backslash \\\\ slash \\/ ctl \\u0001 \\b\\f\\n\\r\\t del \u007f ls \u2028"}',
        '{"floats": [1.0, 1.5, -0.0, 1e21, 1e-7, 123456789.125, 5e-324, 0.1]}',
        '{"big": 9007199254740993, "neg": -9007199254740993, "safe": 9007199254740991}',
        '{"version": "1.2.3", "n": 2}',
        '{"b": 1, "a": 2, "\u00e9": 3, "A": 4, "_": 5, "\U0001F600": 6, "\uffff": 7}',
        '{}',
        '{"a": []}',
    ],
)
def test_sig_hash_agrees_with_rfc8785_reference(line):
    assert sig_hash(line) == _reference(line)
    # the batch form DuckDB calls picks its path per batch (RE2) and must agree
    assert sig_hash_arrow(pa.array([line, None])).to_pylist() == [_reference(line), None]


def test_integer_beyond_2_pow_53_hashes_as_its_double():
    assert sig_hash('{"n": 9007199254740993}') == sig_hash('{"n": 9007199254740992}')


def test_not_i_json_has_no_hash():
    assert sig_hashes(['{"a": "\\ud800"}', '{"a": NaN}', None, '{"a": 1}']) == [
        None,
        None,
        None,
        sig_hash('{"a": 1}'),
    ]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), json_values, max_size=6), st.randoms())
def test_sig_hash_ignores_key_order_and_spacing_and_agrees_with_reference(obj, rnd):
    compact = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    items = list(obj.items())
    rnd.shuffle(items)
    shuffled = json.dumps(dict(items), ensure_ascii=True, indent=rnd.choice([None, 1, 3]))
    spaced = shuffled.replace("\n", " ")
    assert sig_hash(compact) == sig_hash(spaced) == _reference(compact)
    assert sig_hash_arrow(pa.array([compact, spaced])).to_pylist() == [_reference(compact)] * 2
