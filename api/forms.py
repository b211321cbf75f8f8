"""HTML forms generated from pydantic models: the fields to render, and the submitted form back as input.

A control is named as the API names its field in a 422 (`facts.request_received`, `body.note`), so an
API refusal lands next to the control it is about. Nested models are flattened (`body.adviser.kind`);
lists of choices become multi-selects, lists of plain values one per line, lists of models picked by one
field (recipients, by kind) checkboxes, anything else JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from starlette.datastructures import FormData

from domain import words
from domain.schemas import Recipient

Choices = Sequence[tuple[str, str]]
Values = dict[str, str | list[str]]
MULTI = ("multiselect", "lines", "datetime")
SCALARS = (str, int, float, dt.date, dt.datetime, dt.time)
PARSERS = {"date": words.parse_date, "time": words.parse_time}
# Who can be picked without naming a person or an agency: a recipient kind, in plain words.
RECIPIENT_KINDS: Choices = tuple(
    (kind, words.kind(kind))
    for kind in ("parent", "headteacher", "la_sen", "ep_service", "health", "social_care", "other")
)
# Models picked from a list (a select, or checkboxes for a list of them): the field a pick fills, and
# the choices when the page has none of its own ("label": the whole recipient from its label).
PICKED: dict[type[BaseModel], tuple[str, Choices]] = {Recipient: ("label", RECIPIENT_KINDS)}


@dataclass(frozen=True)
class FormField:
    """One form control: its name, label, kind of input and the constraints the browser can check too."""

    name: str
    path: tuple[str, ...]
    label: str
    kind: str  # text textarea date datetime time number checkbox select multiselect lines json
    required: bool
    hint: str = ""
    choices: Choices = ()
    default: str | list[str] = ""
    min: str = ""
    max: str = ""
    step: str = ""
    maxlength: int | None = None
    item_key: str = ""  # a multiselect of models: each ticked value becomes {item_key: value}

    @property
    def id(self) -> str:
        """An HTML id unique on the page."""
        return re.sub(r"[^A-Za-z0-9_-]", "-", self.name)

    def input_type(self, value: str, kind: str = "") -> str:
        """The input's type; a date the browser's picker would blank out (20/01/2027) is shown as text."""
        kind = kind or self.kind
        if kind == "date" and value and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return "text"
        return kind

    def parts(self, value: str | list[str]) -> tuple[str, str]:
        """A date-and-time control's two entries."""
        given = list(value) if isinstance(value, list) else [value]
        padded = [*given, "", ""]
        return padded[0], padded[1]


humanise = words.humanise


def recipient_label(label: str) -> dict[str, Any]:
    """A recipient from its label ('ep_service', 'ep_service:3', 'staff:2') as the payload takes it."""
    kind, _, ident = label.partition(":")
    if not ident.isdigit():
        return {"kind": kind}
    return {
        "kind": kind,
        "staff_id" if kind in ("staff", "sendco", "headteacher") else "agency_id": int(ident),
    }


def recipient_words(recipient: Recipient) -> str:
    """A recipient in plain words: 'EP service', 'School staff 3'."""
    label = words.kind(recipient.kind)
    ident = recipient.staff_id or recipient.agency_id
    return f"{label} {ident}" if ident else label


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    """The type inside `X | None` (and inside Annotated), and whether None was allowed."""
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _strip_optional(args[0])[0], True
    return annotation, False


def _choices_of(annotation: Any) -> Choices:
    """The options of a Literal or an Enum, else none."""
    if get_origin(annotation) is Literal:
        return [(str(v), _option_words(str(v))) for v in get_args(annotation)]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return [(str(m.value), _option_words(str(m.value))) for m in annotation]
    return ()


def _option_words(value: str) -> str:
    """An option in words: a transfer kind, a recommendation, else the code humanised."""
    for table in (words.TRANSFERS, words.RECOMMENDATIONS):
        if value in table:
            return words.sentence(table[value]).rstrip(".")
    return humanise(value)


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _picked(annotation: Any) -> tuple[str, Choices]:
    """For a model picked from a list (or a list of them): the field a pick fills and its choices."""
    if get_origin(annotation) not in (list, set, tuple, frozenset):
        return PICKED.get(annotation, ("", ())) if isinstance(annotation, type) else ("", ())
    return PICKED.get(_strip_optional((get_args(annotation) or (Any,))[0])[0], ("", ()))


def _kind(annotation: Any, info: FieldInfo) -> tuple[str, Choices]:
    """Which input renders a value of this type (checked in order: datetime is also a date)."""
    if choices := _choices_of(annotation):
        return "select", choices
    if choices := _picked(annotation)[1]:
        return ("multiselect" if get_origin(annotation) else "select"), choices
    if get_origin(annotation) in (list, set, tuple, frozenset):
        inner = _strip_optional((get_args(annotation) or (Any,))[0])[0]
        if choices := _choices_of(inner):
            return "multiselect", choices
        return ("lines" if inner in SCALARS else "json"), ()
    if annotation is bool:
        return "checkbox", ()
    kinds = [(dt.datetime, "datetime"), (dt.date, "date"), (dt.time, "time"), (int, "number")]
    for python_type, kind in kinds:
        if isinstance(annotation, type) and issubclass(annotation, python_type):
            return kind, ()
    if annotation is float:
        return "number", ()
    if annotation is str:
        length = _constraint(info, at.MaxLen, "max_length")
        return ("textarea" if length is not None and length > 200 else "text"), ()
    return "json", ()


def _constraint(info: FieldInfo, kind: type, attr: str) -> Any:
    return next((getattr(m, attr) for m in info.metadata if isinstance(m, kind)), None)


def _default(info: FieldInfo, kind: str) -> str | list[str]:
    """The model's default as the control shows it (empty when there is none or it is computed)."""
    if info.is_required() or info.default_factory is not None or info.default is None:
        return [] if kind in MULTI else ""
    value = info.default
    if kind == "checkbox":
        return "on" if value else ""
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _field(name: str, path: tuple[str, ...], info: FieldInfo, choices: Choices | None) -> FormField:
    annotation, optional = _strip_optional(info.annotation)
    kind, own_choices = _kind(annotation, info)
    if choices is not None:
        kind, own_choices = ("multiselect" if kind in MULTI else "select"), choices
    low = _constraint(info, at.Ge, "ge")
    high = _constraint(info, at.Le, "le")
    hint = info.description or ""
    if kind == "lines":
        hint = f"{hint} (one per line)".strip()
    hint = words.sentence(words.plain(hint)) if hint else ""
    return FormField(
        name=name,
        path=path,
        label=info.title or humanise(" ".join(path)),
        kind=kind,
        required=info.is_required() and kind != "checkbox" and not optional,
        hint=hint,
        choices=tuple(own_choices),
        default=_default(info, kind),
        min="" if low is None else str(low),
        max="" if high is None else str(high),
        step="any" if annotation is float else ("1" if kind == "number" else ""),
        maxlength=_constraint(info, at.MaxLen, "max_length") if kind in ("text", "textarea") else None,
        item_key=_picked(annotation)[0] if kind in ("multiselect", "select") else "",
    )


def form_fields(
    model: type[BaseModel],
    *,
    prefix: str,
    skip: Iterable[str] = ("actor",),
    choices: Mapping[str, Choices] | None = None,
    _path: tuple[str, ...] = (),
) -> list[FormField]:
    """The controls for a model's fields, in order (`choices` turns a named field into a select)."""
    fields: list[FormField] = []
    for key, info in model.model_fields.items():
        if key in skip:
            continue
        path = (*_path, key)
        name = ".".join((prefix, *path))
        annotation, optional = _strip_optional(info.annotation)
        given = (choices or {}).get(key) if not _path else None
        if _is_model(annotation) and not optional and given is None and not _picked(annotation)[0]:
            fields += form_fields(annotation, prefix=prefix, skip=(), _path=path)
        else:
            fields.append(_field(name, path, info, given))
    return fields


ACTION_KEY = re.compile(r"^[0-9a-f]{32}$")


def action_key(form: FormData) -> str | None:
    """The key the page gave this form (so a second submission is the same action), if it is one of ours."""
    key = form.get("action_key")
    return key if isinstance(key, str) and ACTION_KEY.match(key) else None


def submitted(fields: Sequence[FormField], form: FormData) -> Values:
    """What the person entered, by control name, to show again if the form is refused."""
    values: Values = {}
    for f in fields:
        if f.kind == "datetime":
            values[f.name] = [str(form.get(f"{f.name}.date") or ""), str(form.get(f"{f.name}.time") or "")]
        elif f.kind in MULTI:
            values[f.name] = form.getlist(f.name)
        else:
            values[f.name] = str(form.get(f.name) or "")
    return values


def defaults(fields: Sequence[FormField]) -> Values:
    """What a fresh form shows."""
    return {f.name: f.default for f in fields}


def _pick(field: FormField, value: str) -> Any:
    if field.item_key == "label":
        return recipient_label(value)
    return {field.item_key: value} if field.item_key else value


def _value(field: FormField, raw: str | list[str]) -> tuple[bool, Any]:
    """The value to validate, or (False, None) to leave it out so the model's default applies.

    A date or time that cannot be read raises ValueError saying what is wanted."""
    if field.kind == "checkbox":
        return True, bool(raw)
    if field.kind == "multiselect":
        return bool(raw), [_pick(field, v) for v in raw]
    if field.kind == "datetime":
        day, time = field.parts(raw)
        if not day.strip() and not time.strip():
            return False, None
        if not day.strip():
            raise ValueError(f"{words.DATE_WANTED} as well as the time")
        if not time.strip():
            raise ValueError(
                f"Enter the time too, as 10:00: {words.day(words.parse_date(day))} at what time?"
            )
        return True, dt.datetime.combine(words.parse_date(day), words.parse_time(time)).isoformat()
    if field.kind == "lines":
        lines = [line.strip() for line in "\n".join(raw).splitlines() if line.strip()]
        return bool(lines), lines
    text = str(raw)
    if not text.strip():
        return False, None
    if field.kind == "json":
        try:
            return True, json.loads(text)
        except ValueError:
            return True, text  # the model then says what it expected
    if field.kind == "select" and field.item_key:
        return True, _pick(field, text)
    if field.kind in PARSERS:
        return True, PARSERS[field.kind](text).isoformat()
    return True, text


def entry_errors(fields: Sequence[FormField], values: Values) -> dict[str, str]:
    """The controls whose entry cannot be read at all (a date as 31/02/2027), and what is wanted."""
    found: dict[str, str] = {}
    for field in fields:
        try:
            _value(field, values.get(field.name, ""))
        except ValueError as err:
            found[field.name] = str(err)
    return found


def model_input(fields: Sequence[FormField], values: Values) -> dict[str, Any]:
    """The submitted values as the model's input: nested by path, empty controls left out."""
    data: dict[str, Any] = {}
    for field in fields:
        try:
            keep, value = _value(field, values.get(field.name, ""))
        except ValueError:
            keep, value = False, None  # entry_errors says why
        if not keep:
            continue
        target = data
        for part in field.path[:-1]:
            target = target.setdefault(part, {})
        target[field.path[-1]] = value
    return data


def errors_by_field(
    problems: Iterable[Mapping[str, Any]], names: Iterable[str], titles: Mapping[str, str] | None = None
) -> tuple[dict[str, str], list[str]]:
    """API refusals `[{field, reason}]` placed on the control they name (or its parent); the rest apart.

    Every reason is put in plain words (what to enter, never pydantic's or a field's own name)."""
    known = sorted(names, key=len, reverse=True)
    placed: dict[str, str] = {}
    loose: list[str] = []
    for problem in problems:
        field = str(problem.get("field") or "")
        reason = words.reword(words.plain(str(problem.get("reason") or "invalid"), fields=titles))
        name = next((n for n in known if field == n or field.startswith(n + ".")), None)
        if name is None:
            label = (titles or {}).get(field.split(".")[-1]) or humanise(field.split(".")[-1])
            loose.append(f"{label}: {reason}" if "." in field else reason)
        else:
            placed[name] = f"{placed[name]}; {reason}" if name in placed else reason
    return placed, loose
