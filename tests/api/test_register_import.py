"""Importing pupils from a school MIS export over HTTP: a preview that changes nothing, bad rows refused
with their row numbers and nothing imported, the same file twice imports once, size bounds, roles."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from domain.upn import make_upn
from tests.api.test_register_api import Desk, desk

UPNS = [make_upn(f"8861{n:08d}") for n in range(1, 7)]
HEADINGS = "UPN,Legal forename,Legal surname,Date of birth,Year group,SEN provision,Need 1,Need 2\r\n"
GOOD = HEADINGS + (
    f"{UPNS[0]},Ada,Example,01/03/2016,4,K,SLCN,\r\n"
    f"{UPNS[1]},Ben,Example,12/09/2015,Year 5,E,ASD,SLCN\r\n"
    f"{UPNS[2]},Cal,Example,30/05/2019,R,N,,\r\n"
)


@pytest.fixture
def oak(api_url: str, engine: Engine) -> Iterator[Desk]:
    yield from desk(api_url, engine, "Oak Primary")


@pytest.fixture
def elm(api_url: str, engine: Engine) -> Iterator[Desk]:
    yield from desk(api_url, engine, "Elm Academy")


def send(client: httpx.Client, text: str | bytes, commit: bool) -> httpx.Response:
    return client.post(
        "/api/v1/register/import",
        params={"commit": str(commit).lower()},
        content=text if isinstance(text, bytes) else text.encode(),
        headers={"content-type": "text/csv"},
    )


def pupils(client: httpx.Client) -> dict[str, dict[str, Any]]:
    response = client.get("/api/v1/pupils", params={"limit": 500})
    assert response.status_code == 200
    return {p["upn"]: p for p in response.json()["items"]}


def test_a_file_with_bad_rows_is_refused_whole_with_each_row_and_reason(oak: Desk) -> None:
    bad = (
        GOOD
        + (
            f"{UPNS[3]},Dee,Example,31/02/2016,4,K,SEMH,\r\n"  # row 5: no 31 February
            f"{UPNS[4]},Eve,Example,01/03/2016,4,S,ASD,\r\n"  # row 6: S is obsolete
            f"{UPNS[5]},Fay,Example,01/03/2016,4,E,NSA,\r\n"  # row 7: NSA only with K
            f"{UPNS[5][:12]}X,Gus,Example,01/03/2016,4,K,ASD,SLCN\r\n"  # row 8: the check letter
            f"{make_upn('886100000099')},Hal,Example,01/03/2016,4,K,ASD;SLCN;MLD,\r\n"  # row 9: three needs
            f"{make_upn('886100000098')},Ivy,Example,01/03/2016,4,N,SEMH,\r\n"  # row 10: a need with N
            f"{UPNS[0]},Ada,Again,01/03/2016,4,K,SLCN,\r\n"  # row 11: Ada twice
        )
    )
    for commit in (False, True):
        response = send(oak.sendco, bad, commit)
        assert response.status_code == 422, response.text
        answer = response.json()
        assert answer["code"] == "invalid"
        assert answer["message"].startswith(
            "Nothing was imported: 7 rows need correcting (row 5, 6, 7, 8, 9, 10, 11)"
        )
        reasons = {e["field"]: e["reason"] for e in answer["errors"]}
        assert reasons == {
            "row 5": "the date of birth is not a real date: check the day and the month",
            "row 6": "provision S (statement) is obsolete: use E for an EHC plan",
            "row 7": "NSA (no specialist assessment) is only valid with SEN support (K)",
            "row 8": "the UPN's check letter does not match the rest of it: copy it again from the MIS",
            "row 9": "at most two ranked need types (rank 1 and rank 2)",
            "row 10": "provision N carries no need type",
            "row 11": "the UPN is also on row 2: list each pupil once",
        }
        assert "Example" not in response.text and "2016" not in response.text  # no names or dates echoed
    assert pupils(oak.sendco) == {}


def test_the_preview_changes_nothing_and_the_same_file_twice_imports_once(oak: Desk, elm: Desk) -> None:
    preview = send(oak.sendco, GOOD, False)
    assert preview.status_code == 200, preview.text
    shown = preview.json()
    assert (shown["committed"], shown["created"], shown["updated"], shown["unchanged"]) == (False, 3, 0, 0)
    assert [(r["row"], r["outcome"]) for r in shown["rows"]] == [
        (2, "created"),
        (3, "created"),
        (4, "created"),
    ]
    assert pupils(oak.sendco) == {}

    first = send(oak.sendco, GOOD, True).json()
    assert (first["committed"], first["created"]) == (True, 3)
    stored = pupils(oak.sendco)
    assert set(stored) == set(UPNS[:3])
    ben = stored[UPNS[1]]
    assert (
        ben["legal_name"],
        ben["date_of_birth"],
        ben["year_group"],
        ben["sen_provision"],
        ben["needs"],
    ) == (
        "Ben Example",
        "2015-09-12",
        5,
        "E",
        ["ASD", "SLCN"],
    )
    again = send(oak.sendco, GOOD, True).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert pupils(oak.sendco) == stored

    # A later export: Ada moved to EHC plan, Cal a year on; previewed, then imported.
    later = GOOD.replace(",4,K,SLCN,", ",4,E,SLCN,").replace(",R,N,,", ",1,N,,")
    changes = send(oak.sendco, later, False).json()
    assert [(r["outcome"], r["changes"]) for r in changes["rows"]] == [
        ("updated", ["SEN provision"]),
        ("unchanged", []),
        ("updated", ["year group"]),
    ]
    assert pupils(oak.sendco) == stored
    assert send(oak.sendco, later, True).json()["updated"] == 2
    assert pupils(oak.sendco)[UPNS[0]]["sen_provision"] == "E"

    # Another school with the same UPNs (a pupil who moved) has pupils of its own; Oak's are untouched.
    assert send(elm.sendco, GOOD, True).json()["created"] == 3
    assert set(pupils(elm.sendco)) == set(UPNS[:3])
    assert len(pupils(oak.sendco)) == 3


def test_a_pupil_already_on_the_register_without_a_upn_is_matched_once(oak: Desk) -> None:
    made = oak.sendco.post(
        "/api/v1/pupils",
        json={
            "legal_name": "Ada Example",
            "date_of_birth": "2016-03-01",
            "year_group": 4,
            "school_id": oak.id,
            "sen_provision": "K",
            "needs": ["SLCN"],
        },
    ).json()
    rows = send(oak.sendco, GOOD, True).json()["rows"]
    assert rows[0] == {
        "row": 2,
        "upn": UPNS[0],
        "outcome": "updated",
        "pupil_id": made["id"],
        "changes": ["UPN"],
    }
    assert pupils(oak.sendco)[UPNS[0]]["id"] == made["id"]


def test_the_columns_the_file_must_have_and_its_size(oak: Desk) -> None:
    missing = send(oak.sendco, "UPN,Name\r\n" + f"{UPNS[0]},Ada\r\n", False)
    assert missing.status_code == 422
    assert missing.json()["message"].startswith("The file has no column for: Date of birth, Year group.")
    assert send(oak.sendco, "", False).status_code == 422
    too_big = send(oak.sendco, HEADINGS + "x" * (2 * 1024 * 1024), False)
    assert too_big.status_code == 413 and "larger than 2 MB" in too_big.json()["message"]
    many = HEADINGS + "".join(f"{make_upn(f'8869{n:08d}')},A,B,01/03/2016,4,N,,\r\n" for n in range(5_001))
    refused = send(oak.sendco, many, False)
    assert refused.status_code == 413 and "up to 5,000" in refused.json()["message"]
    # Windows-1252 from an older MIS, with a byte order mark-free accented name, reads as the MIS meant.
    accented = (HEADINGS + f"{UPNS[0]},Zoë,Example,01/03/2016,4,K,SLCN,\r\n").encode("cp1252")
    assert send(oak.sendco, accented, True).json()["created"] == 1
    assert pupils(oak.sendco)[UPNS[0]]["legal_name"] == "Zoë Example"


def test_only_the_sendco_and_headteacher_import(oak: Desk) -> None:
    assert send(oak.teacher, GOOD, False).status_code == 403
    assert send(oak.head, GOOD, False).status_code == 200
    with httpx.Client(base_url=str(oak.sendco.base_url)) as anonymous:
        assert anonymous.post("/api/v1/register/import", content=GOOD).status_code == 401
