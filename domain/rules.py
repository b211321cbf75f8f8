"""Every rule of the SEND processes as data (see statutory.md): id, description, offset, unit, citation.

This module is the single home of the rules: workflows, the timeline preview, emails and tests read
offsets and citations from here. Pure data, safe inside the Temporal workflow sandbox.

An offset is a magnitude in its unit; the direction and the anchor (meeting, service, request...) are
in ``due``, the rule's due text as statutory.md words it. Rules with no fixed offset carry None.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Unit(StrEnum):
    """How a rule's offset is counted (statutory.md, "Units")."""

    CALENDAR_DAYS = "calendar days"
    CALENDAR_WEEKS = "calendar weeks"
    CALENDAR_MONTHS = "calendar months"
    WORKING_DAYS = "working days"
    SCHOOL_DAYS = "school days"
    DATE = "date"
    EVENT = "event"
    CADENCE = "cadence"
    CYCLES = "cycles"
    DAYS = "days"


@dataclass(frozen=True)
class Rule:
    """One statutory or local rule; local rules are LA-specific practice and may be configured."""

    id: str
    description: str
    offset: int | None
    unit: Unit
    citation: str
    local: bool
    due: str = ""
    escalate_after: int | None = None  # escalation threshold, in the same unit, where the rule sets one


def _index(rules: Iterable[Rule]) -> dict[str, Rule]:
    """Rules by id, refusing duplicates."""
    index: dict[str, Rule] = {}
    for r in rules:
        if r.id in index:
            raise ValueError(f"duplicate rule id {r.id!r}")
        index[r.id] = r
    return index


_ALL_RULES: tuple[Rule, ...] = (
    Rule(
        id="AR-DUE",
        description=(
            "the review must be concluded within 12 months of the plan being issued or of "
            "the previous review's conclusion (the LA's decision date restarts the clock)"
        ),
        offset=12,
        unit=Unit.CALENDAR_MONTHS,
        citation="CFA s.44(1); CoP 9.169",
        local=False,
        due="start + 12 months - 1 day",
    ),
    Rule(
        id="AR-UNDER5",
        description="for children under 5, reviews should be considered every 3-6 months",
        offset=6,
        unit=Unit.CALENDAR_MONTHS,
        citation="CoP 9.178 (guidance)",
        local=False,
        due="default every 6 months (configurable 3-6)",
    ),
    Rule(
        id="AR-ADVICE-REQUEST",
        description="ask every invitee for written advice early enough to circulate it",
        offset=6,
        unit=Unit.CALENDAR_WEEKS,
        citation="practice (local)",
        local=True,
        due="default 6 weeks before the meeting (configurable)",
    ),
    Rule(
        id="AR-INVITE",
        description="invitations to the meeting with at least 2 weeks' notice",
        offset=14,
        unit=Unit.CALENDAR_DAYS,
        citation="Regs 20(3)",
        local=False,
        due="meeting - 14 days",
    ),
    Rule(
        id="AR-ADVICE-CIRCULATE",
        description=(
            "advice gathered from invitees and circulated to all invitees at least 2 weeks before the meeting"
        ),
        offset=14,
        unit=Unit.CALENDAR_DAYS,
        citation="Regs 20(4); CoP 9.176",
        local=False,
        due="meeting - 14 days",
    ),
    Rule(
        id="AR-REPORT",
        description=(
            "written report with recommendations (and any disagreements) sent to the LA and everyone invited"
        ),
        offset=14,
        unit=Unit.CALENDAR_DAYS,
        citation="Regs 20; CoP 9.176",
        local=False,
        due="meeting + 14 days",
    ),
    Rule(
        id="AR-LA-DECISION",
        description=("LA notifies maintain / amend / cease to the parent or young person and the school"),
        offset=28,
        unit=Unit.CALENDAR_DAYS,
        citation="Regs 20; CoP 9.176 (secondary: paragraph number)",
        local=False,
        due="meeting + 28 days",
    ),
    Rule(
        id="AR-AMEND-PROPOSAL",
        description="if amending, the proposed amendments and evidence go with the decision notice",
        offset=28,
        unit=Unit.CALENDAR_DAYS,
        citation="Regs 22(2); Devon",
        local=False,
        due="meeting + 28 days",
    ),
    Rule(
        # an inclusive window: day 1 is the day of service, so it ends on service + 14 days
        id="AR-AMEND-COMMENTS",
        description=(
            "parent or young person has at least 15 days, beginning with the day of "
            "service, to comment or ask for a meeting or a named school"
        ),
        offset=15,
        unit=Unit.CALENDAR_DAYS,
        citation="Regs 22(2)(c)",
        local=False,
        due="service + 14 days",
    ),
    Rule(
        id="AR-FINAL-AMENDED",
        description=(
            "final amended plan issued within 8 weeks of the amendment notice (so at most "
            "12 weeks after the meeting)"
        ),
        offset=56,
        unit=Unit.CALENDAR_DAYS,
        citation="Regs 22(3); Devon",
        local=False,
        due="notice + 56 days",
    ),
    Rule(
        id="PT-15FEB",
        description=(
            "transfer between phases (early years to school, infant to junior, primary to "
            "middle or secondary, middle to secondary): the amended plan naming the next "
            "setting is final by 15 February of the calendar year of transfer"
        ),
        offset=None,
        unit=Unit.DATE,
        citation="Regs 18(1)(b)",
        local=False,
        due="15 Feb of transfer year",
    ),
    Rule(
        id="PT-31MAR",
        description=(
            "secondary school to a post-16 institution: final by 31 March of the calendar year of transfer"
        ),
        offset=None,
        unit=Unit.DATE,
        citation="Regs 18(1)(a)",
        local=False,
        due="31 Mar of transfer year",
    ),
    Rule(
        id="PT-POST16",
        description=(
            "post-16 to post-16 at another time: reviewed and amended at least 5 months before the transfer"
        ),
        offset=5,
        unit=Unit.CALENDAR_MONTHS,
        citation="Regs 18(2)",
        local=False,
        due="transfer - 5 months",
    ),
    Rule(
        id="PT-LATEST-MEETING",
        description=(
            "derived: the latest meeting date from which the LA's 4-week decision and "
            "8-week final can still meet the PT date"
        ),
        offset=12,
        unit=Unit.CALENDAR_WEEKS,
        citation="derived from Regs 18, 20, 22",
        local=False,
        due="PT date - 12 weeks; an LA may set an earlier target (e.g. end of October)",
    ),
    Rule(
        id="EHCNA-DECIDE",
        description="LA decides whether to assess",
        offset=6,
        unit=Unit.CALENDAR_WEEKS,
        citation="Regs 5(1)",
        local=False,
        due="request received + 6 weeks",
    ),
    Rule(
        id="EHCNA-ADVICE",
        description="advice from those the LA asks (school included)",
        offset=6,
        unit=Unit.CALENDAR_WEEKS,
        citation="Regs 8",
        local=False,
        due="LA's request + 6 weeks",
    ),
    Rule(
        id="EHCNA-NO-PLAN",
        description="notice that no plan will be issued",
        offset=16,
        unit=Unit.CALENDAR_WEEKS,
        citation="Regs 10(1)",
        local=False,
        due="request + 16 weeks",
    ),
    Rule(
        # an inclusive window: day 1 is the day of service, so it ends on service + 14 days
        id="EHCNA-DRAFT-COMMENTS",
        description="parent comments on the draft plan",
        offset=15,
        unit=Unit.CALENDAR_DAYS,
        citation="Regs 13(1)",
        local=False,
        due="service + 14 days (15 days inclusive)",
    ),
    Rule(
        id="EHCNA-FINAL",
        description="final plan issued",
        offset=20,
        unit=Unit.CALENDAR_WEEKS,
        citation="Regs 13(2)",
        local=False,
        due="request + 20 weeks",
    ),
    Rule(
        id="SCHOOL-CONSULT",
        description="a school consulted about being named should reply",
        offset=15,
        unit=Unit.CALENDAR_DAYS,
        citation="CoP ch.9 (guidance)",
        local=False,
        due="consultation + 15 days",
    ),
    Rule(
        id="GA-INFORM",
        description="parents must be told when special educational provision is first made",
        offset=None,
        unit=Unit.EVENT,
        citation="CFA s.68; CoP 6.48",
        local=False,
        due="at the start of SEN support",
    ),
    Rule(
        id="GA-REVIEW",
        description="each assess-plan-do-review cycle has an agreed review date",
        offset=None,
        unit=Unit.SCHOOL_DAYS,
        citation="CoP 6.53-6.55",
        local=False,
        due="agreed date; default end of the current term",
    ),
    Rule(
        # offset: meetings per year (one per term)
        id="GA-PARENT-MEETINGS",
        description="meet parents at least three times a year",
        offset=3,
        unit=Unit.CADENCE,
        citation="CoP 6.65 (guidance)",
        local=False,
        due="at least one meeting per term",
    ),
    Rule(
        id="GA-ANNUAL-REPORT",
        description="an annual report on progress to parents",
        offset=12,
        unit=Unit.CALENDAR_MONTHS,
        citation="CoP 6.64",
        local=False,
        due="yearly",
    ),
    Rule(
        id="GA-SPECIALIST",
        description=(
            "involve a specialist (EP, specialist teacher, therapist) when progress stays "
            "little or none despite well-founded support"
        ),
        offset=2,
        unit=Unit.CYCLES,
        citation="CoP 6.59 (guidance)",
        local=False,
        due="after a configurable number of cycles without expected progress (default 2)",
    ),
    Rule(
        # chase after 5 school days, escalate after 10
        id="EP-CONSENT",
        description=(
            "parental consent before the EP works with the child (the young person's own "
            "consent at 16+ with capacity)"
        ),
        offset=5,
        unit=Unit.SCHOOL_DAYS,
        citation="local practice",
        local=True,
        due="chase after 5 school days, escalate after 10",
        escalate_after=10,
    ),
    Rule(
        id="EP-ALLOCATION",
        description=(
            "each school has an annual allocation agreement (hours or sessions) with its "
            "EP service; referrals draw on it"
        ),
        offset=None,
        unit=Unit.CADENCE,
        citation="local practice",
        local=True,
        due="configurable per school year",
    ),
    Rule(
        # 6 school weeks counted as 30 school days
        id="EP-VISIT",
        description="EP visit or consultation takes place",
        offset=30,
        unit=Unit.SCHOOL_DAYS,
        citation="local",
        local=True,
        due="configurable, default within 6 school weeks of acceptance",
    ),
    Rule(
        id="EP-REPORT",
        description="written report after the visit",
        offset=6,
        unit=Unit.CALENDAR_WEEKS,
        citation="local",
        local=True,
        due="configurable, default 6 weeks after the visit",
    ),
    Rule(
        # a money threshold (6,000 GBP), not a clock: checked when an application is made
        id="HNF-THRESHOLD",
        description=(
            "the school meets the first 6,000 GBP of additional support per pupil from its"
            " notional SEN budget; top-up above that comes from the LA's high needs block"
        ),
        offset=None,
        unit=Unit.EVENT,
        citation="CoP 6.99 (secondary)",
        local=False,
        due="evidence shows costed provision above the threshold",
    ),
    Rule(
        id="HNF-EVIDENCE",
        description=(
            "typical evidence: the last two reviewed support plans, specialist reports "
            "(EP, LIFT outcome), costed provision map, parental consent"
        ),
        offset=None,
        unit=Unit.EVENT,
        citation="local",
        local=True,
        due="checklist per LA (local)",
    ),
    Rule(
        # chase after 2 weeks, escalate at 6 weeks
        id="HNF-DECISION",
        description="LA decision on an application",
        offset=2,
        unit=Unit.CALENDAR_WEEKS,
        citation="local",
        local=True,
        due="target 2 weeks, chase then, escalate at 6 weeks (local)",
        escalate_after=6,
    ),
    Rule(
        id="HNF-AWARD",
        description=(
            "an award runs for a period (Kent: 1 year), provision reviewed termly, reapply before it ends"
        ),
        offset=8,
        unit=Unit.CALENDAR_WEEKS,
        citation="local",
        local=True,
        due="reapply reminder 8 weeks before expiry",
    ),
    Rule(
        id="SENIF",
        description=(
            "early years SEN inclusion fund for funded 2-4 year olds without a final EHCP;"
            " application with a reviewed support plan"
        ),
        offset=None,
        unit=Unit.DATE,
        citation="local",
        local=True,
        due="per LA panel dates",
    ),
    Rule(
        id="TR-CTF",
        description=(
            "when a pupil leaves for another school, send the common transfer file and "
            "educational record to the new school"
        ),
        offset=15,
        unit=Unit.SCHOOL_DAYS,
        citation="PIR reg 9(3)",
        local=False,
        due="left roll + 15 school days",
    ),
    Rule(
        id="TR-DUALREG",
        description="dual registration: the same to the second school",
        offset=15,
        unit=Unit.SCHOOL_DAYS,
        citation="PIR reg 9(3B)",
        local=False,
        due="head learns of it + 15 school days",
    ),
    Rule(
        id="TR-NEW-PUPIL-RETURN",
        description="tell the LA of a new pupil",
        offset=5,
        unit=Unit.DAYS,
        citation="PRR reg 13",
        local=False,
        due=(
            "by the end of the 5th day after entry in the admission register (treat as "
            "calendar days unless configured)"
        ),
    ),
    Rule(
        id="TR-DELETION-RETURN",
        description="tell the LA when a pupil's name is deleted",
        offset=None,
        unit=Unit.EVENT,
        citation="PRR reg 13(4)",
        local=False,
        due="no later than deletion",
    ),
    Rule(
        # no clock of its own: sent with the CTF (TR-CTF)
        id="TR-SEN-FILE",
        description=(
            "send the SEN file separately and securely to the receiving SENDCo and obtain acknowledgement"
        ),
        offset=None,
        unit=Unit.SCHOOL_DAYS,
        citation="practice",
        local=False,
        due="with the CTF (practice)",
    ),
    Rule(
        id="TR-RECORDS-ACCESS",
        description="a parent's written request to see the educational record",
        offset=15,
        unit=Unit.SCHOOL_DAYS,
        citation="PIR reg 5(2)",
        local=False,
        due="request + 15 school days",
    ),
    Rule(
        id="TR-LA-TRANSFER",
        description=(
            "an EHC plan moves to the new LA when a family moves: on the day of the move "
            "with 15 working days' notice, else within 15 working days"
        ),
        offset=15,
        unit=Unit.WORKING_DAYS,
        citation="Regs 15(2)",
        local=False,
        due="15 working days",
    ),
    Rule(
        id="TR-NEW-LA-CONTACT",
        description="the new LA tells the family whether it will reassess and when it will review",
        offset=6,
        unit=Unit.CALENDAR_WEEKS,
        citation="Regs 15(4)",
        local=False,
        due="transfer + 6 weeks",
    ),
)

RULES: dict[str, Rule] = _index(_ALL_RULES)


def rule(rule_id: str) -> Rule:
    """The rule with this id; KeyError naming the id if there is none."""
    try:
        return RULES[rule_id]
    except KeyError:
        raise KeyError(f"unknown rule id {rule_id!r}: not in statutory.md (see domain.rules.RULES)") from None
