"""`send-engine`: administration (migrate, back up and restore the database, add a school, set its SENDCo's
working days, issue, list and revoke tokens, seed the demo)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic import ValidationError
from sqlmodel import Session, select

from domain import words
from domain.digest import DIGEST_AT
from engine.backup import BackupError, backup, restore
from engine.digests import start_from_command
from engine.seed import seed_demo
from infra.database import get_engine
from infra.settings import get_settings, private_var_dir
from store import register_service
from store.migrate import upgrade_to_head
from store.register import SchoolCreate, SchoolUpdate, Staff
from store.register_service import NotFound
from store.tokens import TOKEN_DAYS, issue_token, list_tokens, revoke_token


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="send-engine", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser("issue-token", help="print a new bearer token for a staff member")
    token.add_argument("email", help="the staff member's email address")
    token.add_argument("--days", type=int, default=TOKEN_DAYS, help=f"days until it expires ({TOKEN_DAYS})")
    tokens = commands.add_parser("tokens", help="list or revoke bearer tokens")
    what = tokens.add_subparsers(dest="action", required=True)
    listing = what.add_parser("list", help="every token: id, staff member, issued, expires, live or not")
    listing.add_argument("--email", help="only this staff member's tokens")
    revoke = what.add_parser("revoke", help="revoke a token (and end its sessions) at once")
    revoke.add_argument("token_id", type=int, help="the id `tokens list` shows")
    school = commands.add_parser("create-school", help="add a school (only the administrator adds schools)")
    school.add_argument("name", help="the school's name")
    school.add_argument("--local-authority", required=True, help="its LA, as its agencies are registered")
    school.add_argument("--urn", help="its unique reference number")
    days = commands.add_parser(
        "set-sendco-days", help="set the weekdays a school's SENDCo works (their digest follows at once)"
    )
    days.add_argument("school_id", type=int, help="the school's id, as create-school printed it")
    days.add_argument("days", nargs="+", help="weekdays, as names (wed, Wednesday) or numbers (Monday=0)")
    commands.add_parser("seed-demo", help="create the demo school if the register is empty")
    commands.add_parser("migrate", help="upgrade the database schema to the newest revision")
    _backup_commands(commands)
    return parser


def _backup_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    saving = commands.add_parser("backup", help="copy the database (SEND_DATABASE_URL) to a new file")
    saving.add_argument("file", type=Path, help="the backup file to write; never an existing one")
    restoring = commands.add_parser("restore", help="restore a backup file into the empty SEND_DATABASE_URL")
    restoring.add_argument("file", type=Path, help="a file `send-engine backup` wrote")


def _backup_or_restore(args: argparse.Namespace) -> int:
    url = get_settings().database_url
    try:
        if args.command == "backup":
            backup(url, args.file)
            print(f"backed up the database to {args.file}")
        else:
            restore(args.file, url)
            print(f"restored {args.file}; now run `send-engine migrate`, then start the engine")
    except BackupError as err:
        print(f"{args.command} refused: {err}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    if args.command == "migrate":
        before, after = upgrade_to_head(get_engine())
        print(
            f"the database is up to date at {after}" if before == after else f"upgraded {before} -> {after}"
        )
        return 0

    if args.command in ("backup", "restore"):
        return _backup_or_restore(args)

    if args.command == "seed-demo" and get_settings().environment == "production":
        print(
            "seed-demo is for development only: a production engine never holds the demo school",
            file=sys.stderr,
        )
        return 2  # refused before the database is opened
    with Session(get_engine()) as session:
        if args.command == "issue-token":
            staff = session.exec(select(Staff).where(Staff.email == args.email.strip())).first()
            if staff is None:
                print(f"no staff member has the email {args.email!r}", file=sys.stderr)
                return 2
            print(issue_token(session, staff.id, days=args.days))
            return 0
        if args.command == "tokens":
            return _tokens(session, args)
        if args.command == "create-school":
            return _create_school(session, args)
        if args.command == "set-sendco-days":
            return _set_sendco_days(session, args)
        tokens = seed_demo(session, private_var_dir(get_settings()) / "demo-tokens.json")
        print("seeded the demo school" if tokens else "the register is not empty: nothing seeded")
        return 0


def _tokens(session: Session, args: argparse.Namespace) -> int:
    if args.action == "revoke":
        if not revoke_token(session, token_id=args.token_id):
            print(f"there is no token with id {args.token_id}", file=sys.stderr)
            return 2
        print(f"token {args.token_id} revoked: it and its sessions are refused from now on")
        return 0
    for t in list_tokens(session, email=args.email):
        issued, expires = f"{t.created_at:%Y-%m-%d}", f"{t.expires_at:%Y-%m-%d}"
        print(f"{t.id}\t{t.staff_email}\tissued {issued}\texpires {expires}\t{t.state}")
    return 0


def _create_school(session: Session, args: argparse.Namespace) -> int:
    try:
        data = SchoolCreate(name=args.name, local_authority=args.local_authority, urn=args.urn)
    except ValidationError as err:
        print("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()), file=sys.stderr)
        return 2
    school = register_service.create_school(session, data=data)
    print(f"school {school.id} added: {school.name} ({school.local_authority})")
    _tell_digest(school.id, school.sendco_working_days)
    return 0


def _weekday(text: str) -> int | None:
    """'wed', 'Wednesday' or '2' as Monday=0 ... Sunday=6 (None if it is none of them)."""
    text = text.strip().strip(",").lower()
    if text.isdigit():
        return int(text) if int(text) in range(7) else None
    found = [n for n, name in enumerate(words.WEEKDAYS) if len(text) >= 3 and name.lower().startswith(text)]
    return found[0] if found else None


def _set_sendco_days(session: Session, args: argparse.Namespace) -> int:
    days = [_weekday(d) for d in args.days]
    if None in days:
        wrong = ", ".join(d for d, n in zip(args.days, days, strict=True) if n is None)
        print(
            f"not a weekday: {wrong}; give names such as wed or Wednesday, or numbers (Monday=0)",
            file=sys.stderr,
        )
        return 2
    changes = SchoolUpdate(sendco_working_days=[d for d in days if d is not None])
    try:
        school = register_service.update_school(
            session, target_id=args.school_id, school_id=args.school_id, changes=changes
        )
    except NotFound:
        print(f"there is no school with id {args.school_id}", file=sys.stderr)
        return 2
    print(f"{school.name}: the SENDCo works {words.working_pattern(school.sendco_working_days)}")
    _tell_digest(school.id, school.sendco_working_days, restart=True)
    return 0


def _tell_digest(school_id: int, working_days: list[int], *, restart: bool = False) -> None:
    """Start (or restart) the school's SENDCo-day digest now, or say plainly when it will start."""
    pattern = words.working_pattern(working_days)
    if start_from_command(school_id, working_days, restart=restart):
        print(
            f"its SENDCo-day digest is scheduled: at {words.clock(DIGEST_AT)} on each working day ({pattern})"
        )
    else:
        print(
            "the case engine's Temporal server is not reachable now, so the SENDCo-day digest "
            f"({pattern}) will start at the next worker start"
        )


if __name__ == "__main__":
    sys.exit(main())
