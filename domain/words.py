"""The one table of words: every code a person might otherwise read (roles, recipient kinds, steps, flags,
statuses, units, transfer kinds), dates and times as people write them, and a cleaner that turns any
sentence a workflow wrote into plain words. Pages, emails and API messages all use it (../shared/UX.md).

Pure: no I/O, safe inside the Temporal workflow sandbox.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

ENGLAND = ZoneInfo("Europe/London")

# Each kind of person or agency: (a label, the same in a sentence).
KINDS: dict[str, tuple[str, str]] = {
    "sendco": ("SENDCo", "the SENDCo"),
    "headteacher": ("Headteacher", "the headteacher"),
    "staff": ("School staff", "school staff"),
    "parent": ("Parent or carer", "the parents and carers"),
    "la_sen": ("LA SEN team", "the LA SEN team"),
    "ep_service": ("EP service", "the EP service"),
    "health": ("Health", "health services"),
    "social_care": ("Social care", "social care"),
    "other": ("Other professional", "another agency"),
    "engine": ("Case engine", "the case engine"),
}

# Words that are always written this way.
PROPER = {
    "sendco": "SENDCo",
    "la": "LA",
    "las": "LAs",
    "ehc": "EHC",
    "ehcp": "EHCP",
    "ehcna": "EHC needs assessment",
    "ep": "EP",
    "sen": "SEN",
    "lift": "LIFT",
    "ga": "SEN support",
    "pfa": "preparing for adulthood",
    "post16": "post-16",
    "cop": "CoP",
    "ics": ".ics",
}

STEPS: dict[str, str] = {
    "planning": "Planning the review meeting",
    "meeting-set": "Meeting set: gathering advice and views",
    "report": "Writing the review report",
    "report-approval": "Report waiting for the headteacher's approval",
    "awaiting-la-decision": "Waiting for the LA's decision",
    "amending": "The LA is amending the plan",
    "closed": "Closed",
    "gathering": "Gathering the record",
    "approval": "Waiting for the headteacher's approval",
    "disclosing": "Disclosing",
    "done": "Done",
    "awaiting-receipt": "Waiting for the LA to receive the request",
    "awaiting-decision": "Waiting for the LA's decision whether to assess",
    "assessing": "The LA is assessing",
}

STATUSES: dict[str, str] = {
    "open": "Open",
    "closed": "Closed",
    "pending": "Due",
    "met": "Done on time",
    "met_late": "Done late",
    "missed": "Late",
    "escalated": "Late: the headteacher has been told",
    "cancelled": "No longer needed",
    "approved": "Approved",
    "rejected": "Sent back",
    "sent": "Delivered",
    "queued": "Waiting to be sent",
    "sending": "Being sent",
    "failed": "Not delivered",
    "partial": "Delivered to some",
}

TRANSFERS: dict[str, str] = {
    "none": "No transfer this cycle",
    "phase": "Phase transfer (by 15 February)",
    "post16": "Post-16 transfer (by 31 March)",
    "post16_other": "Post-16, other start date (5 months before)",
}

UNITS: dict[str, str] = {
    "calendar days": "days",
    "school days": "school days",
    "working days": "working days",
    "weeks": "weeks",
    "calendar months": "months",
}

# Flags a case may carry: a prefix and what it means (the rest of the flag, if any, is a rule id).
FLAGS: tuple[tuple[str, str], ...] = (
    ("meeting-breach", "Meeting date late or at short notice"),
    ("advice-missing", "Advice missing at circulation"),
    ("records-failing", "Records not being saved: the engine keeps trying"),
    ("la-late-", "The LA is late"),
    ("final-plan-after-", "Final plan issued after the transfer date"),
    ("no-parent-meeting-", "No meeting with the parents this term"),
    ("referral-", "Referred to a specialist"),
    ("plan-provision-not-recorded", "Support plan provision not recorded"),
)

# Field names that may reach a sentence, as a person would ask for them.
FIELDS: dict[str, str] = {
    "breach_reason": "reason for the late or short-notice date",
    "meeting_at": "the meeting date and time",
    "received_on": "the date it was received",
    "pupil_id": "the pupil",
}

RECOMMENDATIONS: dict[str, str] = {
    "maintain": "keep the plan as it is",
    "amend": "amend the plan",
    "cease": "cease the plan",
}


# Census codes (DfE school census): SEN provision and type of need.
PROVISIONS: dict[str, str] = {"E": "EHC plan", "K": "SEN support", "N": "No special educational need"}
NEEDS: dict[str, str] = {
    "SPLD": "Specific learning difficulty",
    "MLD": "Moderate learning difficulty",
    "SLD": "Severe learning difficulty",
    "PMLD": "Profound and multiple learning difficulty",
    "SEMH": "Social, emotional and mental health",
    "SLCN": "Speech, language and communication needs",
    "ASD": "Autistic spectrum disorder",
    "HI": "Hearing impairment",
    "VI": "Vision impairment",
    "MSI": "Multi-sensory impairment",
    "PD": "Physical disability",
    "OTH": "Other difficulty or disability",
    "NSA": "SEN support, no specialist assessment of need",
}

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def working_pattern(days: list[int] | tuple[int, ...]) -> str:
    """'on Wednesdays', 'on Mondays and Thursdays', 'Monday to Friday'."""
    chosen = sorted(set(days))
    if chosen == [0, 1, 2, 3, 4]:
        return "Monday to Friday"
    names = [f"{WEEKDAYS[d]}s" for d in chosen]
    return "on " + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1])


# --- dates and times ------------------------------------------------------------------------------
def in_england(moment: dt.datetime) -> dt.datetime:
    """A stored moment (UTC, naive from SQLite) as the time in England; a naive local time stays."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC).astimezone(ENGLAND)
    return moment.astimezone(ENGLAND)


def day(value: dt.date | dt.datetime | str | None) -> str:
    """'Wed 20 Jan 2027' (an ISO string is read first; a moment is England's date)."""
    value = as_date_or_time(value)
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = in_england(value) if value.tzinfo else value
    return f"{value:%a} {value.day} {value:%b %Y}"


def clock(value: dt.datetime | dt.time) -> str:
    """'10:00'."""
    return f"{value:%H:%M}"


def when(value: dt.datetime | str | None, *, stored: bool = True) -> str:
    """'Wed 20 Jan 2027, 10:00': a stored (UTC) moment in England's time, or a local time as it is."""
    value = as_date_or_time(value)
    if value is None:
        return ""
    if not isinstance(value, dt.datetime):
        return day(value)
    moment = in_england(value) if stored or value.tzinfo else value
    return f"{day(moment.date())}, {clock(moment)}"


def as_date_or_time(value: Any) -> Any:
    """A date or datetime from an ISO string; anything else as it is."""
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def days(count: int) -> str:
    return f"{count} day{'' if count == 1 else 's'}"


def relative(due: dt.date, on: dt.date) -> str:
    """'today', 'tomorrow', 'in 3 days', 'yesterday', '5 days ago'."""
    gap = (due - on).days
    if gap == 0:
        return "today"
    if gap == 1:
        return "tomorrow"
    if gap == -1:
        return "yesterday"
    return f"in {days(gap)}" if gap > 0 else f"{days(-gap)} ago"


UK_DATE = re.compile(r"^\s*(\d{1,2})\s*[/.\- ]\s*(\d{1,2})\s*[/.\- ]\s*(\d{4})\s*$")
ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")
TIME = re.compile(r"^\s*(\d{1,2})(?:[:.](\d{2}))?(?::\d{2})?\s*(am|pm)?\s*$", re.IGNORECASE)
DATE_WANTED = "Enter a date as 20/01/2027"
TIME_WANTED = "Enter a time as 10:00"


def parse_date(text: str) -> dt.date:
    """A date as a person types it (20/01/2027, 20.1.2027) or a date picker sends it (2027-01-20)."""
    found = UK_DATE.match(text)
    if found:
        d, m, y = (int(g) for g in found.groups())
    elif found := ISO_DATE.match(text):
        y, m, d = (int(g) for g in found.groups())
    else:
        raise ValueError(DATE_WANTED)
    try:
        return dt.date(y, m, d)
    except ValueError:
        raise ValueError(f"There is no such date: {DATE_WANTED[0].lower()}{DATE_WANTED[1:]}") from None


def parse_time(text: str) -> dt.time:
    """A time as typed: 10:00, 9.30, 2pm, 14:30."""
    found = TIME.match(text)
    if not found:
        raise ValueError(TIME_WANTED)
    hour, minute, half = int(found.group(1)), int(found.group(2) or 0), (found.group(3) or "").lower()
    if half == "pm" and hour < 12:
        hour += 12
    if half == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        raise ValueError(TIME_WANTED)
    return dt.time(hour, minute)


# --- codes as words -------------------------------------------------------------------------------
def humanise(name: str) -> str:
    """`request_received` or `awaiting-la-decision` as words, with SENDCo, LA, EHC... capitalised."""
    parts = [PROPER.get(w.lower(), w) for w in re.sub(r"[_\-.]+", " ", str(name)).split()]
    words = " ".join(parts)
    return words[:1].upper() + words[1:]


def kind(code: str, *, in_sentence: bool = False) -> str:
    """A role or recipient kind: 'ep_service' -> 'EP service' (or 'the EP service' in a sentence)."""
    found = KINDS.get(code)
    if found:
        return found[1] if in_sentence else found[0]
    return humanise(code)


def in_text(code: str) -> str:
    """A kind's label inside a sentence: 'EP service', 'social care', 'parent or carer'."""
    label = kind(code)
    first = label.split()[0]
    return label if first in PROPER.values() else label[:1].lower() + label[1:]


def step(code: str) -> str:
    return STEPS.get(code) or humanise(code)


def status(code: str) -> str:
    code = str(getattr(code, "value", code))
    return STATUSES.get(code) or humanise(code)


def transfer(code: str | None) -> str:
    return TRANSFERS.get(code or "none") or humanise(code or "")


def unit(code: str) -> str:
    return UNITS.get(str(getattr(code, "value", code)), str(code))


def flag(code: str) -> str:
    """A case flag in words: 'c1:meeting-breach' -> 'Meeting date late or at short notice (cycle 1)'."""
    cycle = ""
    if re.match(r"^c\d+:", code):
        prefix, _, code = code.partition(":")
        cycle = f" (review {prefix[1:]})"
    for start, words in FLAGS:
        if code == start or (start.endswith("-") and code.startswith(start)):
            rest = code[len(start) :] if start.endswith("-") else ""
            return f"{words}{f' ({rest})' if rest else ''}{cycle}"
    return f"{humanise(code)}{cycle}"


PROCESSES: dict[str, str] = {
    "annual_review": "EHCP annual review",
    "records_request": "Parent's request to see the educational record",
    "needs_assessment": "Request for an EHC needs assessment",
    "graduated_approach": "SEN support (the graduated approach)",
}


def process(code: str) -> str:
    """A process by its title (the registry's own, where the caller cannot read the registry)."""
    return PROCESSES.get(code) or humanise(code)


def provision(code: str) -> str:
    """'E' -> 'EHC plan (E)'."""
    return f"{PROVISIONS[code]} ({code})" if code in PROVISIONS else code


def need(code: str) -> str:
    """'SLCN' -> 'Speech, language and communication needs (SLCN)'."""
    return f"{NEEDS[code]} ({code})" if code in NEEDS else code


def year_group(year: int) -> str:
    return {-2: "Nursery 1", -1: "Nursery 2", 0: "Reception"}.get(year, f"Year {year}")


def recommendation(code: str | None) -> str:
    return RECOMMENDATIONS.get(code or "", humanise(code or ""))


def deadline_status(state: str, due: dt.date, done_on: dt.date | None, on: dt.date) -> str:
    """'done on time', 'done late by 3 days', 'due in 5 days', 'due today', 'late by 2 days'."""
    state = str(getattr(state, "value", state))
    if state == "cancelled":
        return "no longer needed"
    if state in ("met", "met_late"):
        late = (done_on - due).days if done_on else (0 if state == "met" else 1)
        return f"done late by {days(late)}" if late > 0 else "done on time"
    gap = (due - on).days
    if gap > 0 and state == "pending":
        return "due tomorrow" if gap == 1 else f"due in {days(gap)}"
    if gap == 0 and state == "pending":
        return "due today"
    told = ": the headteacher has been told" if state == "escalated" else ""
    return f"late by {days(max(-gap, 1))}{told}" if gap <= 0 else f"due in {days(gap)}{told}"


# --- sentences a workflow wrote, in plain words --------------------------------------------------
_ISO_MOMENT = re.compile(
    r"\b(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b"
)
_LABEL = re.compile(r"\b(" + "|".join(sorted(KINDS, key=len, reverse=True)) + r"):(\d+)\b")
_CODE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
_LA = re.compile(r"\bla\b")
_DECISION = re.compile(r"\bto (maintain|amend|cease)\b(?! the plan)(?! it)")
_SENDCO = re.compile(r"\bsendco\b", re.IGNORECASE)


_NO_WEEKDAY = "".join(
    f"(?<!{d[:3]} )" for d in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
)
_SHORT_DATE = re.compile(
    _NO_WEEKDAY + r"\b(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4})\b"
)


def _with_weekday(found: re.Match[str]) -> str:
    """'12 Jan 2027' (as a workflow writes it) as 'Tue 12 Jan 2027'."""
    try:
        return day(dt.datetime.strptime(found.group(0), "%d %b %Y").date())
    except ValueError:
        return found.group(0)


def _iso_words(found: re.Match[str]) -> str:
    try:
        date = dt.date.fromisoformat(found.group(1))
    except ValueError:
        return found.group(0)
    return f"{day(date)}, {found.group(2)}" if found.group(2) else day(date)


def plain(
    text: str,
    *,
    names: Callable[[str], str | None] | None = None,
    fields: Mapping[str, str] | None = None,
) -> str:
    """A sentence with every code in it as words: ISO dates and times, recipient labels ('ep_service:3',
    by the register's name when `names` knows it), kinds ('social_care'), field names ('breach_reason')."""
    if not text:
        return text
    text = _ISO_MOMENT.sub(_iso_words, text)
    text = _SHORT_DATE.sub(_with_weekday, text)

    def label(found: re.Match[str]) -> str:
        named = names(found.group(0)) if names else None
        return named or in_text(found.group(1))

    text = _LABEL.sub(label, text)
    known = {**(fields or {}), **FIELDS}

    def code(found: re.Match[str]) -> str:
        word = found.group(0)
        if word in known:
            return known[word]
        if word in KINDS:
            return in_text(word)
        if word in TRANSFERS:
            return transfer(word).lower()
        return humanise(word).lower() if word.islower() else word

    text = _CODE.sub(code, text)
    text = _DECISION.sub(lambda m: f"to {RECOMMENDATIONS[m.group(1)]}", text)
    text = _LA.sub("LA", text)
    return _SENDCO.sub("SENDCo", text)


def sentence(text: str) -> str:
    """A capital first and a full stop last."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".?!" else text + "."


def shown(value: Any, *, names: Callable[[str], str | None] | None = None) -> str:
    """Any value a page shows: dates and times in words, yes or no, lists joined, codes as words."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return when(value, stored=value.tzinfo is not None)
    if isinstance(value, dt.date):
        return day(value)
    if hasattr(value, "value") and not isinstance(value, str | int | float):
        return shown(value.value, names=names)
    if isinstance(value, list | tuple | set):
        return ", ".join(s for s in (shown(v, names=names) for v in value) if s)
    if isinstance(value, Mapping):
        return "; ".join(
            f"{humanise(str(k))}: {shown(v, names=names)}" for k, v in value.items() if v not in (None, "")
        )
    if hasattr(value, "model_dump"):
        return shown(value.model_dump(), names=names)
    text = str(value)
    if text in KINDS:
        return kind(text)
    if _LABEL.fullmatch(text):
        return plain(text, names=names)
    parsed = as_date_or_time(text)
    if isinstance(parsed, dt.datetime):
        return when(parsed, stored=parsed.tzinfo is not None)
    if isinstance(parsed, dt.date):
        return day(parsed)
    return plain(text, names=names)


# --- what a validation error asks for ----------------------------------------------------------------
# The JSON API takes dates and times as ISO 8601; the pages also take 20/01/2027 (DATE_WANTED above).
API_DATE_WANTED = "Enter a date as 2027-01-20 (year, month, day)"
API_DATETIME_WANTED = "Enter a date and a time as 2027-01-20T10:00"
API_TIME_WANTED = "Enter a time as 10:00"
MEETING_TIME_WANTED = "Enter the meeting's start time, for example 2027-01-20T10:00"
FILL_IN = "This is needed: please fill it in"
NOT_READ = "This could not be read: check it against the API's description and send it again"
# Each pydantic error type as what to enter (types that start date_, datetime_ or time_ are dates or times);
# a type not listed gets NOT_READ, never pydantic's own text. {name} is filled from the error's context.
VALIDATION_WANTED: dict[str, str] = {
    "missing": FILL_IN,
    "string_too_short": FILL_IN,
    "string_type": "Enter this as text",
    "string_too_long": "Keep it to {max_length} characters or fewer",
    "string_pattern_mismatch": "This is not in the form wanted: check it",
    "string_unicode": "Enter this as text",
    "int_parsing": "Enter a whole number, such as 3",
    "int_type": "Enter a whole number, such as 3",
    "int_from_float": "Enter a whole number, such as 3",
    "int_parsing_size": "Enter a smaller whole number",
    "float_parsing": "Enter a number, such as 2.5",
    "float_type": "Enter a number, such as 2.5",
    "finite_number": "Enter a number, such as 2.5",
    "decimal_parsing": "Enter an amount, such as 2500.00",
    "decimal_type": "Enter an amount, such as 2500.00",
    "greater_than_equal": "Enter {ge} or more",
    "greater_than": "Enter more than {gt}",
    "less_than_equal": "Enter {le} or less",
    "less_than": "Enter less than {lt}",
    "multiple_of": "Enter a multiple of {multiple_of}",
    "too_short": "Choose at least {min_length}",
    "too_long": "Choose {max_length} or fewer",
    "literal_error": "Choose one of the options the API describes",
    "enum": "Choose one of the options the API describes",
    "bool_parsing": "Answer true or false",
    "bool_type": "Answer true or false",
    "json_invalid": "This could not be read as JSON: check the brackets, commas and quotes",
    "json_type": "This could not be read as JSON: check the brackets, commas and quotes",
    "model_type": "Send an object of named fields, as the API describes",
    "model_attributes_type": "Send an object of named fields, as the API describes",
    "dict_type": "Send an object of named fields, as the API describes",
    "list_type": "Send a list, such as [1, 2]",
    "set_type": "Send a list, such as [1, 2]",
    "tuple_type": "Send a list, such as [1, 2]",
    "extra_forbidden": "This is not asked for here: leave it out",
    "uuid_parsing": "Enter the id as the API gave it",
    "uuid_type": "Enter the id as the API gave it",
    "url_parsing": "Enter a web address, such as https://example.org",
    "url_scheme": "Enter a web address, such as https://example.org",
    "none_required": "Leave this out",
    "union_tag_invalid": "Choose one of the options the API describes",
    "union_tag_not_found": "Say which kind this is, as the API describes",
    "date_from_datetime_inexact": API_DATE_WANTED + ", with no time",
    "timezone_naive": "Enter the time with no time zone, such as 2027-01-20T10:00",
    "timezone_aware": "Enter the time with its time zone, such as 2027-01-20T10:00Z",
}
EMAIL_WANTED = "Enter an email address, such as name@example.org"
# Text that is Python's or pydantic's, not ours: a validator's message matching it is not shown.
_NOT_OURS = re.compile(
    r"Input should|Value error|Assertion failed|Field required|type=|String should|List should|"
    r"Invalid isoformat|invalid literal|out of range|must be in \d|object has no|Traceback|\w+Error\b|[{}]|"
    r"<\w[^>]*>"
)


def wanted(error_type: str, message: str, ctx: Mapping[str, Any] | None = None) -> str:
    """A validation error (pydantic's type, message and context) as what to enter; a validator's own
    reason (`value_error`) as it gave it, codes as words; never 'Input should ...' or other Python text."""
    ctx = ctx or {}
    if error_type in ("value_error", "assertion_error"):
        reason = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if "email address" in reason:  # email-validator's own words
            return EMAIL_WANTED
        return NOT_READ if not reason or _NOT_OURS.search(reason) else reason  # ours, written for people
    if error_type in VALIDATION_WANTED:
        try:
            return VALIDATION_WANTED[error_type].format(**{k: ctx[k] for k in ctx if k != "error"})
        except (KeyError, IndexError, ValueError):
            return NOT_READ
    if error_type.startswith("datetime"):
        return API_DATETIME_WANTED
    if error_type.startswith("date"):
        return API_DATE_WANTED
    if error_type.startswith("time"):
        return API_TIME_WANTED
    return NOT_READ


_REWORD: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (
        re.compile(r"^(Field required|String should have at least 1 character)"),
        lambda m: "This is needed: please fill it in",
    ),
    (re.compile(r"^Input should be a valid datetime"), lambda m: f"{DATE_WANTED} and a time as 10:00"),
    (re.compile(r"^Input should be a valid date|^Datetimes provided to dates"), lambda m: DATE_WANTED),
    (re.compile(r"^Input should be a valid time"), lambda m: TIME_WANTED),
    (re.compile(r"^Input should be a valid integer"), lambda m: "Enter a whole number, such as 3"),
    (re.compile(r"^Input should be a valid number"), lambda m: "Enter a number, such as 2.5"),
    (re.compile(r"^Input should be greater than or equal to (\S+)"), lambda m: f"Enter {m.group(1)} or more"),
    (re.compile(r"^Input should be less than or equal to (\S+)"), lambda m: f"Enter {m.group(1)} or less"),
    (
        re.compile(r"^String should have at most (\d+) characters"),
        lambda m: f"Keep it to {m.group(1)} characters or fewer",
    ),
    (re.compile(r"^List should have at least 1 item"), lambda m: "Choose at least one"),
    (re.compile(r"^Input should be '"), lambda m: "Choose one of the options"),
    (re.compile(r"^(Value error|Assertion failed), "), lambda m: ""),
    (
        re.compile(r"^Enter the meeting's start time"),
        lambda m: "Enter the meeting's start time too, as 10:00",
    ),
    (re.compile(r"^Enter a date and a time as"), lambda m: f"{DATE_WANTED} and a time as 10:00"),
    (re.compile(r"^Enter a date as (?!20/01/2027)"), lambda m: DATE_WANTED),
    (re.compile(r"^Choose one of the options the API describes"), lambda m: "Choose one of the options"),
    (
        re.compile(r"^This could not be read: check it against"),
        lambda m: "This could not be read: please enter it again",
    ),
    (re.compile(r"^(Send an object|Send a list)"), lambda m: "This could not be read: please enter it again"),
)


def reword(reason: str) -> str:
    """A refusal's reason in plain words: pydantic's own messages as what to enter, codes as words."""
    for pattern, words_for in _REWORD:
        found = pattern.search(reason)
        if found:
            replaced = words_for(found)
            reason = replaced if replaced else reason[found.end() :]
            break
    return sentence(plain(reason))
