"""Shared fixtures: a temporary SQLite register, a real API server on loopback, staff and tokens."""

from __future__ import annotations

import datetime as dt
import os
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

# Settings are read once per process: point them at a throwaway database before anything imports them.
_TMP = Path(tempfile.mkdtemp(prefix="send-tests-"))
# Never the developer's own settings or database: every SEND_ setting comes from here.
for _name in [k for k in os.environ if k.startswith("SEND_") and k != "SEND_TEST_POSTGRES_URL"]:
    del os.environ[_name]
os.environ["SEND_DATABASE_URL"] = f"sqlite:///{_TMP / 'send.db'}"
os.environ["SEND_VAR_DIR"] = str(_TMP / "var")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The loopback SMTP server of tests/fixtures/smtp.py listens here; the email activity reads it.
os.environ["SEND_SMTP_PORT"] = str(free_port())

import uvicorn  # noqa: E402
from sqlmodel import Session  # noqa: E402

from domain.schemas import Role  # noqa: E402
from infra.database import get_engine  # noqa: E402
from store.migrate import upgrade_to_head  # noqa: E402
from store.register import Agency, AgencyKind, Parent, Pupil, PupilParent, School, Staff  # noqa: E402
from store.tokens import issue_token  # noqa: E402

# Fixture modules, one per real service the tests start.
pytest_plugins = ["tests.fixtures.smtp", "tests.fixtures.temporal", "tests.fixtures.postgres"]


@pytest.fixture(scope="session", autouse=True)
def engine():  # type: ignore[no-untyped-def]
    """The tests' database, built as every database is: by upgrading it to the newest migration."""
    engine = get_engine()
    upgrade_to_head(engine)
    return engine


@pytest.fixture
def session(engine) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture(scope="session")
def school(engine) -> School:  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as s:
        school = School(name="Test Primary", local_authority="Kent", sendco_working_days=[1])
        s.add(school)
        s.commit()
        s.refresh(school)
        return school


def _staff(engine, school: School, role: Role, n: int) -> tuple[Staff, str]:  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as s:
        staff = Staff(school_id=school.id, name=f"{role} {n}", email=f"{role}{n}@example.org", role=role)
        s.add(staff)
        s.commit()
        s.refresh(staff)
        return staff, issue_token(s, staff.id)


@pytest.fixture(scope="session")
def sendco(engine, school) -> tuple[Staff, str]:  # type: ignore[no-untyped-def]
    return _staff(engine, school, Role.sendco, 1)


@pytest.fixture(scope="session")
def headteacher(engine, school) -> tuple[Staff, str]:  # type: ignore[no-untyped-def]
    return _staff(engine, school, Role.headteacher, 1)


@pytest.fixture(scope="session")
def teacher(engine, school) -> tuple[Staff, str]:  # type: ignore[no-untyped-def]
    return _staff(engine, school, Role.staff, 1)


@pytest.fixture(scope="session")
def pupil(engine, school: School, sendco, headteacher) -> Pupil:  # type: ignore[no-untyped-def]
    """A Year 6 pupil with an EHC plan, one parent, and the LA's SEN team, EP, health and social care."""
    with Session(engine, expire_on_commit=False) as s:
        pupil = Pupil(
            school_id=school.id,
            legal_name="Ada Example",
            date_of_birth=dt.date(2015, 5, 1),
            year_group=6,
            sen_provision="E",
            needs=["ASD"],
            local_authority="Kent",
        )
        parent = Parent(name="Grace Example", email="parent@example.org")
        s.add_all([pupil, parent])
        s.commit()
        s.add(PupilParent(pupil_id=pupil.id, parent_id=parent.id))
        for kind in AgencyKind:
            s.add(
                Agency(
                    kind=kind,
                    name=f"Kent {KIND_NAMES[kind]}",
                    email=f"{kind.value}@example.org",
                    local_authority="Kent",
                )
            )
        s.commit()
        return pupil


KIND_NAMES = {
    "la_sen": "SEN team",
    "ep_service": "Educational Psychology",
    "health": "Community Health",
    "social_care": "Children's Social Care",
    "other": "Outreach Service",
}


class ServerThread(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the test process keeps its own
        pass


@pytest.fixture(scope="session")
def app(engine):  # type: ignore[no-untyped-def]
    """The product's FastAPI app (tests may point app.state.temporal at a test server)."""
    from api.main import create_app

    return create_app()


@pytest.fixture(scope="session")
def api_url(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The real app served by uvicorn on a loopback port, for tests that go through HTTP."""
    port = free_port()
    server = ServerThread(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the API server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def client_for(api_url: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=api_url, headers=headers, timeout=30)


@pytest.fixture
def as_sendco(api_url, sendco) -> Iterator[httpx.Client]:  # type: ignore[no-untyped-def]
    with client_for(api_url, sendco[1]) as c:
        yield c


@pytest.fixture
def as_head(api_url, headteacher) -> Iterator[httpx.Client]:  # type: ignore[no-untyped-def]
    with client_for(api_url, headteacher[1]) as c:
        yield c


@pytest.fixture
def as_teacher(api_url, teacher) -> Iterator[httpx.Client]:  # type: ignore[no-untyped-def]
    with client_for(api_url, teacher[1]) as c:
        yield c


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    """How many requests the schemathesis run over the OpenAPI sent, and how many answered 5xx."""
    fuzzed = sys.modules.get("tests.api.test_openapi")
    if fuzzed is not None and fuzzed.FUZZED["cases"]:
        counts = fuzzed.FUZZED
        terminalreporter.write_line(
            f"schemathesis: {counts['cases']} cases over the OpenAPI, {counts['server errors']} answered 5xx"
        )
