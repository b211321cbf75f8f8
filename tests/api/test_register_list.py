"""The SEND register over HTTP: each school's own pupils with provision, needs, open cases and the next
deadline; its filters, paging and CSV export; the census codes refused; the provision map's costs."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.deadline_states import DeadlineState
from domain.provision import PlannedIntervention, PlanProvision
from store import provision_service
from store.casework import Case, CaseStatus, Deadline
from tests.api.test_register_api import Desk, add_pupil, desk, refused

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def oak(api_url: str, engine: Engine) -> Iterator[Desk]:
    yield from desk(api_url, engine, "Oak Primary")


@pytest.fixture
def elm(api_url: str, engine: Engine) -> Iterator[Desk]:
    yield from desk(api_url, engine, "Elm Academy")


def open_case(engine: Engine, school: Desk, pupil_id: int, process: str, *, status: str = "open") -> str:
    case_id = str(uuid.uuid4())
    with Session(engine) as s:
        s.add(
            Case(
                id=case_id,
                process=process,
                workflow_id=f"{process}-{case_id}",
                pupil_id=pupil_id,
                school_id=school.id,
                status=CaseStatus(status),
                started_by=school.staff_ids[0],
                started_at=T0,
                updated_at=T0,
            )
        )
        s.commit()
    return case_id


def deadline(
    engine: Engine, school: Desk, case_id: str, key: str, rule_id: str, due: dt.date, state: str
) -> None:
    with Session(engine) as s:
        s.add(
            Deadline(
                case_id=case_id,
                school_id=school.id,
                key=key,
                step=key,
                rule_id=rule_id,
                owner="sendco",
                due=due,
                status=DeadlineState(state),
            )
        )
        s.commit()


def entries(client: httpx.Client, **params: Any) -> dict[str, dict[str, Any]]:
    response = client.get("/api/v1/register", params=params)
    assert response.status_code == 200, response.text
    return {e["legal_name"]: e for e in response.json()["items"]}


@pytest.fixture
def register(oak: Desk, elm: Desk, engine: Engine) -> dict[str, Any]:
    """Oak: Ada (K, SLCN, Year 4), Ben (E, ASD and SLCN, Year 6, an open annual review), Cal (N, Year 3),
    Dee (K, SEMH, Year 4, a closed case); Elm: Eve (K, SLCN, Year 4)."""
    ada = add_pupil(oak.sendco, oak.id, legal_name="Ada", sen_provision="K", needs=["SLCN"])
    ben = add_pupil(
        oak.sendco, oak.id, legal_name="Ben", year_group=6, sen_provision="E", needs=["ASD", "SLCN"]
    )
    cal = add_pupil(oak.sendco, oak.id, legal_name="Cal", year_group=3)
    dee = add_pupil(oak.sendco, oak.id, legal_name="=Dee", sen_provision="K", needs=["SEMH"])
    eve = add_pupil(elm.sendco, elm.id, legal_name="Eve", sen_provision="K", needs=["SLCN"])
    review = open_case(engine, oak, ben["id"], "annual_review")
    deadline(engine, oak, review, "invite-1", "AR-INVITE", dt.date(2026, 11, 10), "met")  # done: not next
    deadline(engine, oak, review, "review-1", "AR-DUE", dt.date(2027, 1, 20), "pending")
    deadline(engine, oak, review, "report-1", "AR-REPORT", dt.date(2027, 2, 3), "pending")
    closed = open_case(engine, oak, dee["id"], "graduated_approach", status="closed")
    deadline(engine, oak, closed, "review-1", "GA-REVIEW", dt.date(2026, 12, 1), "pending")
    return {"ada": ada, "ben": ben, "cal": cal, "dee": dee, "eve": eve, "review": review}


def test_the_register_lists_the_schools_pupils_with_sen_and_their_next_deadline(
    oak: Desk, elm: Desk, register: dict[str, Any]
) -> None:
    seen = entries(oak.teacher)  # every member of staff reads the register
    assert set(seen) == {"Ada", "Ben", "=Dee"}  # E and K only; Cal has no SEN; Eve is Elm's
    ben = seen["Ben"]
    assert ben["sen_provision"] == "E" and ben["needs"] == ["ASD", "SLCN"]
    assert ben["open_cases"] == [{"id": register["review"], "process": "annual_review"}]
    assert ben["next_deadline"] == {
        "due": "2027-01-20",
        "rule_id": "AR-DUE",
        "step": "review-1",
        "case_id": register["review"],
    }
    assert seen["=Dee"]["open_cases"] == [] and seen["=Dee"]["next_deadline"] is None  # its case is closed
    assert "date_of_birth" not in ben
    assert set(entries(elm.sendco)) == {"Eve"}


def test_the_register_filters_and_pages(oak: Desk, register: dict[str, Any]) -> None:
    assert set(entries(oak.sendco, provision="N")) == {"Cal"}
    assert set(entries(oak.sendco, provision="E")) == {"Ben"}
    assert set(entries(oak.sendco, need="SLCN")) == {"Ada", "Ben"}
    assert set(entries(oak.sendco, year_group=4)) == {"Ada", "=Dee"}
    assert set(entries(oak.sendco, has_open_case=True)) == {"Ben"}
    assert set(entries(oak.sendco, has_open_case=False)) == {"Ada", "=Dee"}
    first = oak.sendco.get("/api/v1/register", params={"limit": 2}).json()
    second = oak.sendco.get("/api/v1/register", params={"limit": 2, "offset": 2}).json()
    assert (first["total"], first["has_more"], second["has_more"]) == (3, True, False)
    names = [e["legal_name"] for e in first["items"] + second["items"]]
    assert names == ["=Dee", "Ada", "Ben"]  # by name
    bad = oak.sendco.get("/api/v1/register", params={"provision": "S"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid"


def test_the_csv_export_is_the_register_and_no_more(oak: Desk, elm: Desk, register: dict[str, Any]) -> None:
    response = oak.teacher.get("/api/v1/register.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == [
        "UPN",
        "Name",
        "Year group",
        "SEN provision",
        "Need (rank 1)",
        "Need (rank 2)",
        "Open cases",
        "Next deadline",
        "Rule",
    ]
    by_name = {row[1]: row for row in rows[1:]}
    assert set(by_name) == {"Ada", "Ben", "'=Dee"}  # a name that looks like a formula stays text
    assert by_name["Ben"][2:] == [
        "Year 6",
        "EHC plan (E)",
        "ASD",
        "SLCN",
        "EHCP annual review",
        "Wed 20 Jan 2027",
        "AR-DUE",
    ]
    assert by_name["Ada"][2:] == ["Year 4", "SEN support (K)", "SLCN", "", "", "", ""]
    assert "2016" not in response.text  # no date of birth
    assert [
        row[1]
        for row in csv.reader(
            io.StringIO(oak.sendco.get("/api/v1/register.csv", params={"provision": "N"}).text)
        )
    ][1:] == ["Cal"]
    elm_rows = list(csv.reader(io.StringIO(elm.sendco.get("/api/v1/register.csv").text)))
    assert [row[1] for row in elm_rows[1:]] == ["Eve"]


# --- the census codes, over HTTP ------------------------------------------------------------------------
CENSUS = [
    ({"sen_provision": "S", "needs": ["ASD"]}, "sen_provision", "obsolete"),
    ({"sen_provision": "E", "needs": ["NSA"]}, "needs", "only valid with SEN support"),
    ({"sen_provision": "K", "needs": ["ASD", "SLCN", "MLD"]}, "needs", "at most two"),
    ({"sen_provision": "N", "needs": ["SEMH"]}, "needs", "carries no need type"),
]


@pytest.mark.parametrize(("fields", "field", "reason"), CENSUS)
def test_census_codes_are_refused_over_http(
    oak: Desk, fields: dict[str, Any], field: str, reason: str
) -> None:
    refused(oak.sendco.post("/api/v1/pupils", json={**_pupil(oak), **fields}), 422, field, reason)
    made = add_pupil(oak.sendco, oak.id, sen_provision="K", needs=["SLCN"])
    refused(oak.sendco.patch(f"/api/v1/pupils/{made['id']}", json=fields), 422, field, reason)
    kept = oak.sendco.get(f"/api/v1/pupils/{made['id']}").json()
    assert (kept["sen_provision"], kept["needs"]) == ("K", ["SLCN"])


def _pupil(school: Desk) -> dict[str, Any]:
    return {"legal_name": "Sam Pupil", "date_of_birth": "2016-03-01", "year_group": 4, "school_id": school.id}


# --- the provision map ----------------------------------------------------------------------------------
def test_the_provision_map_over_http(oak: Desk, elm: Desk, engine: Engine, register: dict[str, Any]) -> None:
    lego = {
        "name": "Lego therapy",
        "delivery": "group",
        "sessions_per_week": 2,
        "weeks": 10,
        "cost_per_week": 60,
    }
    assert oak.teacher.post("/api/v1/interventions", json=lego).status_code == 403
    made = oak.sendco.post("/api/v1/interventions", json=lego)
    assert made.status_code == 201, made.text
    lego_id = made.json()["id"]
    reading = oak.head.post(
        "/api/v1/interventions",
        json={
            "name": "Reading recovery",
            "delivery": "individual",
            "sessions_per_week": 5,
            "weeks": 8,
            "cost_per_week": 30,
        },
    ).json()["id"]
    refused(oak.sendco.post("/api/v1/interventions", json={**lego, "delivery": "pairs"}), 422, "delivery", "")
    assert oak.teacher.get(f"/api/v1/interventions/{lego_id}").status_code == 200
    assert elm.sendco.get(f"/api/v1/interventions/{lego_id}").status_code == 404
    assert elm.sendco.patch(f"/api/v1/interventions/{lego_id}", json={"weeks": 2}).status_code == 404
    assert elm.sendco.get("/api/v1/interventions").json()["total"] == 0

    # Support plans (the graduated approach's record_plan_provision) place Ada and Dee.
    this_year = provision_service.school_year_of(dt.date.today())
    placed_on = dt.date(this_year, 10, 1)
    with Session(engine) as s:
        for name, picks in (("ada", [lego_id, reading]), ("dee", [lego_id])):
            case_id = open_case(engine, oak, register[name]["id"], "graduated_approach")
            provision_service.assign_plan(
                s,
                plan=PlanProvision(
                    case_id=case_id,
                    cycle=1,
                    pupil_id=register[name]["id"],
                    school_id=oak.id,
                    interventions=[
                        PlannedIntervention(intervention_id=i, sessions_per_week=2, weeks=10) for i in picks
                    ],
                ),
                placed_on=placed_on,
            )

    listed = oak.teacher.get("/api/v1/interventions").json()
    assert [(i["name"], i["pupils"]) for i in listed["items"]] == [
        ("Lego therapy", 2),
        ("Reading recovery", 1),
    ]
    pupils = oak.teacher.get(f"/api/v1/interventions/{lego_id}/pupils").json()
    assert [(p["legal_name"], p["cost_per_week"], p["cost"]) for p in pupils["items"]] == [
        ("=Dee", 30.0, 300.0),
        ("Ada", 30.0, 300.0),
    ]
    ada = oak.teacher.get(f"/api/v1/provision-map/pupils/{register['ada']['id']}").json()
    assert ada["total"] == 300.0 + 300.0  # her share of Lego therapy, and reading recovery's 30 for 10 weeks
    whole = oak.teacher.get("/api/v1/provision-map").json()
    assert (whole["total"], whole["pupils"]) == (900.0, 2)
    assert whole["starts"] == f"{this_year}-09-01" and whole["ends"] == f"{this_year + 1}-08-31"
    assert (
        oak.teacher.get("/api/v1/provision-map", params={"school_year": this_year - 1}).json()["total"] == 0.0
    )
    assert elm.sendco.get(f"/api/v1/provision-map/pupils/{register['ada']['id']}").status_code == 404
    assert elm.sendco.get("/api/v1/provision-map").json()["total"] == 0.0

    in_use = oak.sendco.delete(f"/api/v1/interventions/{lego_id}")
    assert in_use.status_code == 409 and "stays on the provision map" in in_use.json()["message"]
    assert oak.teacher.delete(f"/api/v1/interventions/{reading}").status_code == 403
