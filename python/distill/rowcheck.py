"""A record type's JSON Schema as one DuckDB expression (docs/design.md, "The firewall and
secrets"): firewall layer 3 checks every row of a written part in one vectorised pass, and
pydantic, still the type contract, validates the first row of each part and names the problem
of any row the pass finds.

The schemas distill's exports use need only a small part of JSON Schema: objects with `required`
and `additionalProperties: false`, strings (`minLength`, `enum`), arrays (`items`, `minItems`,
`maxItems`), integers (`minimum`), `$ref` and `anyOf` (an optional field). Anything else raises:
a record type that outgrows this must teach it first, never pass unchecked.
"""

from typing import Any

from pydantic import BaseModel

_TYPES = {"string": "'VARCHAR'", "array": "'ARRAY'", "object": "'OBJECT'", "null": "'NULL'", "boolean": "'BOOLEAN'"}
_KEYWORDS = {"type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
             "minLength", "enum", "minimum", "anyOf", "$ref", "title", "description", "default", "$defs"}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _resolve(schema: dict, defs: dict) -> dict:
    ref = schema.get("$ref")
    return defs[ref.rsplit("/", 1)[1]] if ref else schema


def _holds(schema: dict, value: str, defs: dict, depth: int = 0) -> str:
    """SQL that is true when the JSON value `value` (an expression of type JSON, never SQL NULL)
    is valid against `schema`."""
    schema = _resolve(schema, defs)
    unknown = set(schema) - _KEYWORDS
    if unknown:
        raise ValueError(f"rowcheck: JSON Schema keywords {sorted(unknown)} are not translated")
    if "anyOf" in schema:
        return "(" + " or ".join(_holds(option, value, defs, depth) for option in schema["anyOf"]) + ")"
    kind = schema.get("type")
    if kind == "integer":
        conds = [f"json_type({value}) in ('UBIGINT', 'BIGINT')"]
        if "minimum" in schema:
            conds.append(f"{value}::hugeint >= {int(schema['minimum'])}")
    elif kind in _TYPES:
        conds = [f"json_type({value}) = {_TYPES[kind]}"]
    else:
        raise ValueError(f"rowcheck: JSON Schema type {kind!r} is not translated")
    if kind == "string":
        if "minLength" in schema:
            conds.append(f"length({value} ->> '$') >= {int(schema['minLength'])}")
        if "enum" in schema:
            conds.append(f"({value} ->> '$') in ({', '.join(_literal(v) for v in schema['enum'])})")
    elif kind == "array":
        if "minItems" in schema:
            conds.append(f"json_array_length({value}) >= {int(schema['minItems'])}")
        if "maxItems" in schema:
            conds.append(f"json_array_length({value}) <= {int(schema['maxItems'])}")
        if "items" in schema:
            item = f"item{depth}"
            inner = _holds(schema["items"], item, defs, depth + 1)
            conds.append(f"len(list_filter(json_extract({value}, '$[*]'), lambda {item}: not ({inner}))) = 0")
    elif kind == "object":
        properties = schema.get("properties", {})
        if schema.get("additionalProperties", True) is False:
            allowed = ", ".join(_literal(k) for k in properties)
            conds.append(f"list_has_all([{allowed}]::varchar[], json_keys({value}))")
        for key, sub in properties.items():
            member = f"({value} -> {_literal('$.' + _quoted(key))})"
            required = key in schema.get("required", [])
            check = _holds(sub, member, defs, depth)
            conds.append(f"coalesce({check}, false)" if required
                         else f"({member} is null or coalesce({check}, false))")
    return "(" + " and ".join(conds) + ")"


def _quoted(key: str) -> str:
    if not key.replace("_", "").isalnum():
        raise ValueError(f"rowcheck: property name {key!r} is not translated")
    return key


def valid_row_sql(record_type: type[BaseModel], value: str = "json") -> str:
    """A DuckDB boolean expression, true when the JSON value `value` is a valid `record_type`."""
    schema: dict[str, Any] = record_type.model_json_schema()
    defs = schema.pop("$defs", {})
    return f"coalesce(json_valid({value}) and {_holds(schema, value + '::json', defs)}, false)"
