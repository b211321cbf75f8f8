"""The action links an email carries: one per purpose for each parent or agency reading it, made here
in the email activity (never in a workflow: the key stays out of workflow code and history)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from activities.recipients import Person
from domain.dates import ENGLAND
from domain.links import PURPOSES, purposes_for
from domain.schemas import EmailRequest
from infra.link_signing import token_for
from infra.settings import Settings
from store import links
from store.casework import Case


def respond_url(settings: Settings, link_id: str) -> str:
    return f"{settings.public_url.rstrip('/')}/respond/{token_for(link_id)}"


def links_for(
    session: Session, req: EmailRequest, case: Case | None, person: Person, settings: Settings
) -> list[dict[str, Any]]:
    """This reader's links for this email (the same ones on every attempt at it): words, URL, expiry."""
    if case is None or not person.ref or len(req.to) != 1:
        return []
    addressed = req.to[0]  # as the case knows the reader: what the answer names
    found = []
    for purpose in purposes_for(req.template, person.kind, req.context):
        spec = PURPOSES[purpose]
        if case.process not in spec.actions:
            continue
        link = links.issue(
            session,
            case_id=case.id,
            recipient=person.ref,
            addressed=addressed.model_dump(mode="json"),
            purpose=purpose.value,
            step=spec.answers.format(addressed=addressed.label),
            source=req.key,
            days=settings.link_days.get(purpose.value, spec.days),
        )
        expires = links.aware(link.expires_at).astimezone(ENGLAND)
        found.append(
            {
                "title": spec.title,
                "invitation": spec.invitation,
                "url": respond_url(settings, link.id),
                "expires": expires.date().isoformat(),
                "single_use": spec.single_use,
            }
        )
    return found
