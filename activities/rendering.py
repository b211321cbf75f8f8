"""Email templates: a Jinja2 pair per message (<name>.html and <name>.txt) under templates/email/."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from domain import words
from domain.schemas import RECIPIENT_WORDS
from infra.settings import ROOT

EMAIL_TEMPLATES = ROOT / "templates" / "email"


@dataclass(frozen=True)
class Rendered:
    """One rendered message: subject line, plain-text body and HTML body."""

    subject: str
    text: str
    html: str


def long_date(value: dt.date | dt.datetime | str) -> str:
    """A date as 'Monday 23 November 2026', from a date, datetime or ISO string."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
    return f"{value:%A} {value.day} {value:%B %Y}"


def days_phrase(days: int) -> str:
    """'today', 'tomorrow' or 'in 5 days'."""
    if days <= 0:
        return "today"
    return "tomorrow" if days == 1 else f"in {days} days"


def who(owner: str) -> str:
    """A role or agency kind in words: 'la_sen' -> 'the local authority SEN team'."""
    words = RECIPIENT_WORDS.get(owner.split(":")[0])  # "other:12": an agency of the register
    return words[1] if words else owner.replace("_", " ")


@lru_cache
def environment() -> Environment:
    """The email environment: autoescape for .html, strict about missing context keys."""
    env = Environment(
        loader=FileSystemLoader(EMAIL_TEMPLATES),
        autoescape=select_autoescape(["html"], default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(long_date=long_date, days_phrase=days_phrase, who=who, plain=words.plain)
    return env


def render(template: str, context: dict[str, Any]) -> Rendered:
    """Render <template>.txt (its `subject` block is the subject line) and <template>.html."""
    env = environment()
    text_template = env.get_template(f"{template}.txt")
    if "subject" not in text_template.blocks:
        raise ValueError(f"email template {template}.txt has no subject block")
    subject_ctx = text_template.new_context(dict(context))
    subject = " ".join("".join(text_template.blocks["subject"](subject_ctx)).split())
    text = text_template.render(context)
    html = env.get_template(f"{template}.html").render(context)
    return Rendered(subject=subject, text=text, html=html)
