"""Action links: what a parent or agency can do from an email without signing in, as data in one place.

Each purpose is one thing a reader is asked to do, answered by one action of the case's process. The email
activity gives each recipient of the emails named here a link of their own for each purpose their kind is
offered (never staff: they sign in). A link is bound to one case, one recipient and one purpose, expires
after the purpose's days (SEND_LINK_DAYS can change them), and works once when the purpose is single-use.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

AGENCY_KINDS = frozenset({"la_sen", "ep_service", "health", "social_care", "other"})
PARENTS = frozenset({"parent"})


class Purpose(StrEnum):
    give_views = "give-views"
    confirm_attendance = "confirm-attendance"
    give_consent = "give-consent"
    upload_advice = "upload-advice"
    acknowledge_file = "acknowledge-file"


@dataclass(frozen=True)
class LinkPurpose:
    """One purpose: its words, the action that answers it in each process, its expiry and use."""

    purpose: Purpose
    title: str  # the page's heading and the email's line: what the reader is asked to do
    invitation: str  # the email's words before the link
    actions: dict[str, str]  # process -> the action (URL name) the link's answer takes
    days: float  # how long a link lasts by default
    single_use: bool
    answers: str = ""  # the step or deadline it answers; {addressed}: the recipient as emailed
    done: str = "Your answer has been sent"  # the thank-you page's words
    upload: bool = False  # the answer is a file (advice, a report)


PURPOSES: dict[Purpose, LinkPurpose] = {
    p.purpose: p
    for p in (
        LinkPurpose(
            Purpose.give_views,
            "Give your views",
            "Tell us your views, and your child's, before the meeting",
            {"annual_review": "record-parent-views"},
            days=28,
            single_use=False,  # views can be added to until the meeting
            answers="parent-views",
            done="Your views have been sent",
        ),
        LinkPurpose(
            Purpose.confirm_attendance,
            "Tell us if you can come to the meeting",
            "Tell us if you can come to the meeting",
            {"annual_review": "record-attendance-reply"},
            days=28,
            single_use=True,
            answers="meeting",
            done="Your answer about the meeting has been sent",
        ),
        LinkPurpose(
            Purpose.give_consent,
            "Give or refuse consent",
            "Give or refuse your consent",
            {"ep_referral": "record-consent"},
            days=21,
            single_use=True,
            answers="consent",
            done="Your answer about consent has been sent",
        ),
        LinkPurpose(
            Purpose.upload_advice,
            "Send your written advice",
            "Upload your written advice or report",
            {"annual_review": "record-advice"},
            days=42,
            single_use=True,
            answers="advice:{addressed}",
            done="Your advice has been sent",
            upload=True,
        ),
        LinkPurpose(
            Purpose.acknowledge_file,
            "Confirm you have received the SEN file",
            "Confirm you have received the SEN file",
            {"leaving": "acknowledge-sen-file"},
            days=28,
            single_use=True,
            answers="sen-file",
            done="Your confirmation has been sent",
        ),
    )
}

# Which emails carry which links, for which kinds of recipient (staff never get one: they sign in).
LINKS_IN_EMAILS: dict[str, dict[frozenset[str], tuple[Purpose, ...]]] = {
    "ar-invitation": {
        PARENTS: (Purpose.confirm_attendance, Purpose.give_views),
        AGENCY_KINDS: (Purpose.confirm_attendance,),
    },
    "ar-advice-request": {AGENCY_KINDS: (Purpose.upload_advice,)},
    "ep-consent-request": {PARENTS: (Purpose.give_consent,)},
    "ep-consent-chase": {PARENTS: (Purpose.give_consent,)},
    "tr-sen-file": {AGENCY_KINDS: (Purpose.acknowledge_file,)},  # the receiving school, leaving only
}


RESEND_TEMPLATE = "respond-link"  # a link sent again: its purpose is in the email's context


def purposes_for(template: str, kind: str, context: dict | None = None) -> tuple[Purpose, ...]:
    """The links an email gives a recipient of this kind (none for staff, or for an email not listed)."""
    if template == RESEND_TEMPLATE and responder_kind(kind) and context and context.get("link_purpose"):
        return (Purpose(context["link_purpose"]),)
    for kinds, purposes in LINKS_IN_EMAILS.get(template, {}).items():
        if kind in kinds:
            return purposes
    return ()


def responder_kind(kind: str) -> str | None:
    """'parent' or 'agency' for a recipient who acts through links; None for staff."""
    if kind in PARENTS:
        return "parent"
    return "agency" if kind in AGENCY_KINDS else None
