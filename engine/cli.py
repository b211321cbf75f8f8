"""`send-engine`: administrative commands (upgrade the database, issue a token, seed the demo school)."""

from __future__ import annotations

import argparse
import sys

from sqlmodel import Session, select

from engine.seed import seed_demo
from infra.database import get_engine
from infra.settings import get_settings
from store.migrate import upgrade_to_head
from store.register import Staff
from store.tokens import issue_token


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="send-engine", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser("issue-token", help="print a new bearer token for a staff member")
    token.add_argument("email", help="the staff member's email address")
    commands.add_parser("seed-demo", help="create the demo school if the register is empty")
    commands.add_parser("migrate", help="upgrade the database schema to the newest revision")
    args = parser.parse_args(argv)

    if args.command == "migrate":
        before, after = upgrade_to_head(get_engine())
        print(
            f"the database is up to date at {after}" if before == after else f"upgraded {before} -> {after}"
        )
        return 0

    with Session(get_engine()) as session:
        if args.command == "issue-token":
            staff = session.exec(select(Staff).where(Staff.email == args.email.strip())).first()
            if staff is None:
                print(f"no staff member has the email {args.email!r}", file=sys.stderr)
                return 2
            print(issue_token(session, staff.id))
            return 0
        tokens = seed_demo(session, get_settings().var_dir / "demo-tokens.json")
        print("seeded the demo school" if tokens else "the register is not empty: nothing seeded")
        return 0


if __name__ == "__main__":
    sys.exit(main())
