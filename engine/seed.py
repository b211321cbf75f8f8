"""The demo school seeded on first start: staff, a handful of pupils, parents and agencies."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlmodel import Session, select

from domain.schemas import Role
from store.register import Agency, AgencyKind, Parent, Pupil, PupilParent, School, Staff
from store.tokens import issue_token

STAFF = [
    ("Sam Patel", "sendco@oakfield.example.org", Role.sendco),
    ("Jo Morgan", "head@oakfield.example.org", Role.headteacher),
    ("Alex Reed", "class6@oakfield.example.org", Role.staff),
]
# legal name, date of birth, year group, provision, needs, parent name
PUPILS = [
    ("Ada Lovelace", dt.date(2015, 3, 14), 6, "E", ["ASD", "SLCN"], "Grace Lovelace"),
    ("Ben Okafor", dt.date(2020, 10, 2), 1, "E", ["PD"], "Chi Okafor"),
    ("Cara Singh", dt.date(2011, 1, 20), 10, "E", ["SEMH"], "Dev Singh"),
    ("Dan Hughes", dt.date(2017, 6, 8), 4, "K", ["SPLD"], "Eve Hughes"),
    ("Ella Novak", dt.date(2018, 12, 1), 3, "N", [], "Fran Novak"),
]
AGENCIES = [
    (AgencyKind.la_sen, "Kent SEN team", "sen@kent.example.org"),
    (AgencyKind.ep_service, "Kent Educational Psychology Service", "ep@kent.example.org"),
    (AgencyKind.health, "Kent Community Health", "health@kent.example.org"),
    (AgencyKind.social_care, "Kent Children's Social Care", "socialcare@kent.example.org"),
]


def seed_demo(session: Session, tokens_file: Path) -> dict[str, str] | None:
    """Create the demo school once; returns the staff tokens (also kept in tokens_file, development only)."""
    if session.exec(select(School)).first() is not None:
        return None
    school = School(
        name="Oakfield Primary (demo)", urn="999999", local_authority="Kent", sendco_working_days=[1, 3]
    )
    session.add(school)
    session.commit()
    tokens: dict[str, str] = {}
    for name, email, role in STAFF:
        staff = Staff(school_id=school.id, name=name, email=email, role=role)
        session.add(staff)
        session.commit()
        tokens[f"{role.value} ({email})"] = issue_token(session, staff.id)
    for kind, name, email in AGENCIES:
        session.add(Agency(kind=kind, name=name, email=email, local_authority="Kent"))
    for legal_name, dob, year, provision, needs, parent_name in PUPILS:
        pupil = Pupil(
            school_id=school.id,
            legal_name=legal_name,
            date_of_birth=dob,
            year_group=year,
            sen_provision=provision,
            needs=needs,
            local_authority="Kent",
        )
        parent = Parent(name=parent_name, email=f"{parent_name.split()[0].lower()}@parents.example.org")
        session.add_all([pupil, parent])
        session.commit()
        session.add(PupilParent(pupil_id=pupil.id, parent_id=parent.id))
    session.commit()
    tokens_file.parent.mkdir(parents=True, exist_ok=True)
    tokens_file.write_text(json.dumps(tokens, indent=2))
    tokens_file.chmod(0o600)
    return tokens


def demo_tokens(tokens_file: Path) -> dict[str, str]:
    return json.loads(tokens_file.read_text()) if tokens_file.exists() else {}
