"""The bench's data generator at a tiny size on SQLite: the rows it writes are rows the product reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bench.data import add_cases, add_pupils, add_schools, bench_pupil_ids, count, demo_school, explain
from engine.seed import seed_demo
from infra.database import make_engine
from store import case_service
from store.casework import Case, CaseStatus, Deadline, DeadlineStatus
from store.migrate import upgrade_to_head
from store.paging import paginate
from store.register import Pupil, PupilParent, School, Staff


@pytest.fixture
def demo(tmp_path: Path) -> Engine:
    """A new SQLite database upgraded to the newest schema, with the demo school seeded."""
    engine = make_engine(f"sqlite:///{tmp_path / 'send.db'}")
    upgrade_to_head(engine)
    with Session(engine) as session:
        seed_demo(session, tmp_path / "tokens.json")
    yield engine
    engine.dispose()


def test_pupils_are_added_up_to_the_total_each_with_a_parent_and_an_ehc_plan(demo: Engine) -> None:
    seeded = count(demo, Pupil)
    assert add_pupils(demo, seeded + 40) == 40
    assert add_pupils(demo, seeded + 40) == 0  # already there: nothing added
    ids = bench_pupil_ids(demo, 100)
    assert len(ids) == 40 and count(demo, PupilParent) >= 40
    with Session(demo) as session:
        pupils = session.exec(select(Pupil).where(Pupil.id.in_(ids))).all()
    assert {p.sen_provision for p in pupils} == {"E"}  # an annual review can be started for each


def test_cases_spread_over_schools_then_topped_up_in_one_school_are_listed_newest_first(demo: Engine) -> None:
    add_pupils(demo, 50)
    schools = add_schools(demo, 3)
    assert len(schools) == 3 and schools[0] == demo_school(demo)
    assert add_cases(demo, 30, "annual_review", schools=schools, per_case=2) == (30, 60)
    home = demo_school(demo)
    assert count(demo, Case, school_id=home) == 10 and count(demo, Deadline, school_id=home) == 20
    assert add_cases(demo, 25, "annual_review", per_case=2, seed=3) == (25, 50)
    assert (count(demo, Case), count(demo, Deadline)) == (55, 110)
    assert count(demo, Case, school_id=home) == 35

    with Session(demo) as session:
        # Every case is started by a SENDCo of its own school, and its deadlines carry its school.
        staff_school = dict(session.exec(select(Staff.id, Staff.school_id)).all())
        cases = session.exec(select(Case)).all()
        assert all(staff_school[c.started_by] == c.school_id for c in cases)
        assert {c.status for c in cases} <= set(CaseStatus) and all(c.view == {} for c in cases)
        by_case = {c.id: c for c in cases}
        for d in session.exec(select(Deadline)).all():
            assert d.school_id == by_case[d.case_id].school_id
            assert d.status in {DeadlineStatus.met, DeadlineStatus.pending}
        # The lists the API serves read them back in order, typed as the product wrote them.
        page = paginate(session, case_service.cases_query(school_id=home), 0, 20)
        assert (len(page.items), page.total, page.total_exact, page.has_more) == (20, 35, True, True)
        started = [c.started_at for c in page.items]
        assert started == sorted(started, reverse=True)
        due = [d.due for d in paginate(session, case_service.deadlines_query(school_id=home), 0, 70).items]
        assert len(due) == 70 and due == sorted(due)
        assert session.exec(select(School).where(School.id == schools[2])).one().sendco_working_days == [1, 3]


def test_the_same_seed_gives_the_same_cases(tmp_path: Path) -> None:
    rows = []
    for name in ("one", "two"):
        engine = make_engine(f"sqlite:///{tmp_path / name}.db")
        upgrade_to_head(engine)
        with Session(engine) as session:
            seed_demo(session, tmp_path / f"{name}.json")
        add_pupils(engine, 20)
        add_cases(engine, 12, "annual_review", seed=7)
        with Session(engine) as session:
            rows.append(
                [(c.id, c.pupil_id, c.step, c.status) for c in session.exec(select(Case).order_by(Case.id))]
            )
        engine.dispose()
    assert rows[0] == rows[1] and len(rows[0]) == 12


def test_explain_reports_each_list_statement_with_its_plan(demo: Engine) -> None:
    add_pupils(demo, 20)
    add_cases(demo, 60, "annual_review")
    plans = explain(demo, repeat=2)
    assert set(plans) == {"cases", "deadlines"}
    for name, index in (("cases", "ix_case_school_started"), ("deadlines", "ix_deadline_school_due")):
        page, counted = plans[name]["statements"]
        assert any(index in step for step in page["plan"]), page["plan"]
        assert counted["sql"].startswith("SELECT count(*)")
