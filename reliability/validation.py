"""Turn pydantic validation errors into one-line messages.

A user who mistypes a key or a value must be told, on one line, the file, the
dotted key, the offending value and what would have been accepted.  Pydantic's
own messages are good at the "what is allowed" part; this module adds the
file and key, and rewrites the two messages that are not self-explanatory
(unknown keys, missing keys).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import pydantic

STRICT = pydantic.ConfigDict(extra="forbid", frozen=False, validate_default=True)


def dotted(loc: tuple[Any, ...], prefix: str = "") -> str:
    """``('analysis', 'temperatures_C', 2)`` -> ``analysis.temperatures_C[2]``."""
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("float", "int", "str", "list[float]", "dict[str,any]"):
            # union member names that pydantic inserts into the location
            continue
        elif str(part).startswith(("function-", "tagged-union", "lax-or-strict", "json-or-python")):
            continue
        else:
            out = f"{out}.{part}" if out else str(part)
    return out or "(top level)"


def short(value: Any, limit: int = 60) -> str:
    """A printable, single-line, bounded representation of a bad value."""
    if isinstance(value, float) and not math.isfinite(value):
        text = repr(value)
    elif isinstance(value, dict):
        text = "{" + ", ".join(sorted(str(k) for k in value)) + "}"
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def allowed_keys(model: type[pydantic.BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the sub-model at ``loc`` (best effort, for unknown-key hints)."""
    current: Any = model
    for part in loc[:-1]:
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        annotation = fields[part].annotation
        current = _first_model(annotation)
        if current is None:
            return []
    fields = getattr(current, "model_fields", None)
    return sorted(fields) if fields else []


def _first_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _first_model(arg)
        if found is not None:
            return found
    return None


_SCALAR_TYPES = ("float_type", "float_parsing", "int_type", "int_parsing", "string_type", "bool_type")


def format_error(
    err: pydantic.ValidationError,
    source: str | Path,
    model: type[pydantic.BaseModel] | None = None,
    prefix: str = "",
) -> str:
    """One line describing the first problem in ``err``."""
    errors = err.errors(include_url=False)
    # a typo shows up twice: as an unknown key and as the missing right one; report the typo
    first = next((e for e in errors if e.get("type") == "extra_forbidden"), errors[0])
    if isinstance(first.get("input"), dict) and first.get("type") in _SCALAR_TYPES:
        # a union (number | table): a table given, so its own error says what is wrong, not "a valid number"
        key0 = dotted(tuple(first.get("loc", ())), prefix)
        first = next((e for e in errors if dotted(tuple(e.get("loc", ())), prefix).startswith(key0)
                      and e.get("type") not in _SCALAR_TYPES), first)
    loc = tuple(first.get("loc", ()))
    key = dotted(loc, prefix)
    kind = first.get("type", "")
    value = first.get("input")
    if kind == "extra_forbidden":
        allowed = allowed_keys(model, loc) if model is not None else []
        hint = f"; allowed keys here: {', '.join(allowed)}" if allowed else ""
        return f"{source}: unknown key '{key}'{hint}"
    if kind == "missing":
        return f"{source}: missing required key '{key}'"
    msg = first.get("msg", "invalid value")
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return f"{source}: {key} = {short(value)}: {msg}"


def _reject_text(value: Any) -> Any:
    # TOML already types numbers; a quoted "120000" or a true is a typo, not a number
    if isinstance(value, (str, bool)):
        raise ValueError("expected a number (without quotes)")
    return value


Number = Annotated[float, pydantic.BeforeValidator(_reject_text), pydantic.AllowInfNan(False)]
"""A finite float that refuses strings and booleans."""

PositiveNumber = Annotated[Number, pydantic.Field(gt=0)]
