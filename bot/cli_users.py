"""`giaitrinh user ...`: staff accounts, their API tokens, console passwords and
set-password links. A password is never an argument (it would stay in the shell's history
and in the process list): it is typed at a prompt, or read from standard input."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.cli_common import on_database
from bot.domain.roles import Role
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.store.db import Database


def _show_token(heading: str) -> Callable[[str], None]:
    def show(token: str) -> None:
        print(heading)
        print(token)

    return show


def _read_password(args: argparse.Namespace) -> str | None:
    """The password asked for (--password: typed twice at a prompt; --password-stdin: the
    first line of standard input), or None when none was asked for."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not args.password:
        return None
    first = getpass.getpass("Mật khẩu mới: ")
    if getpass.getpass("Nhập lại mật khẩu: ") != first:
        raise SystemExit("error: the two passwords differ")
    return first


def console_url(settings: Settings, path: str) -> str:
    """A console address as staff open it: the public URL, else the local gateway."""
    base = settings.public_url.rstrip("/") or f"http://{settings.host}:{settings.port}"
    return f"{base}/console/{path}"


def _user_create(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services.passwords import check_new_password, set_password
    from bot.services.users import create_user

    password = _read_password(args)

    async def work(db: Database) -> str:
        if password is not None:
            check_new_password(password)  # before the account exists
        token = await create_user(
            db, args.username, args.role, args.agency, args.name or "", settings.token_ttl_days
        )
        if password is not None:
            await set_password(db, args.username, password)
        return token

    heading = (
        f"user {args.username} ({args.role}) created"
        + (" with a console password" if password is not None else "")
        + f"; API token (shown once, valid {settings.token_ttl_days} days):"
    )
    return on_database(settings, work, _show_token(heading))


def _user_password(settings: Settings, args: argparse.Namespace) -> int:
    """Set a user's console password (their sessions end)."""
    from bot.services.passwords import set_password

    password = _read_password(args)
    if password is None:
        print("give --password (a prompt) or --password-stdin", file=sys.stderr)
        return 2

    async def work(db: Database) -> None:
        await set_password(db, args.username, password)

    return on_database(settings, work, lambda _: print(f"password of {args.username} set"))


def _user_password_link(settings: Settings, args: argparse.Namespace) -> int:
    """A set-password link, printed once: valid 24 hours, for one use."""
    from bot.services.passwords import issue_password_link

    async def work(db: Database) -> str:
        return await issue_password_link(db, args.username)

    heading = (
        f"set-password link of {args.username} (shown once, valid 24 hours, one use; "
        "the previous link no longer works):"
    )
    return on_database(
        settings,
        work,
        lambda token: _show_token(heading)(console_url(settings, f"dat-mat-khau/{token}")),
    )


def _user_disable(settings: Settings, args: argparse.Namespace) -> int:
    """Someone left: no log-in, no console session and no API token from now on."""
    from bot.services.passwords import disable_user

    async def work(db: Database) -> None:
        await disable_user(db, args.username)

    return on_database(settings, work, lambda _: print(f"user {args.username} disabled"))


def _user_token(settings: Settings, args: argparse.Namespace) -> int:
    """A fresh token for a user (the old one stops working)."""
    from bot.services.users import issue_token

    async def work(db: Database) -> str:
        return await issue_token(db, args.username, settings.token_ttl_days)

    heading = (
        f"new API token of {args.username} (shown once, valid {settings.token_ttl_days} days; "
        "the previous one no longer works):"
    )
    return on_database(settings, work, _show_token(heading))


def _user_revoke(settings: Settings, args: argparse.Namespace) -> int:
    """Take a user's token away at once (a leaked token, someone who left)."""
    from bot.services.users import revoke_token

    async def work(db: Database) -> None:
        await revoke_token(db, args.username)

    return on_database(settings, work, lambda _: print(f"API token of {args.username} revoked"))


def _password_options(parser: argparse.ArgumentParser) -> None:
    given = parser.add_mutually_exclusive_group()
    given.add_argument("--password", action="store_true", help="type a password at a prompt")
    given.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Mount `user create/password/password-link/disable/token/revoke`."""
    user = sub.add_parser("user", help="agency staff accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    create = user_sub.add_parser("create", help="create a user and print its API token")
    create.add_argument("username")
    create.add_argument("--role", choices=[r.value for r in Role], default=Role.OFFICER.value)
    create.add_argument("--agency", help="agency slug (required for officers and operators)")
    create.add_argument("--name", help="display name")
    _password_options(create)
    create.set_defaults(func=_user_create)
    password = user_sub.add_parser("password", help="set a console password (sessions end)")
    password.add_argument("username")
    _password_options(password)
    password.set_defaults(func=_user_password)
    link = user_sub.add_parser(
        "password-link", help="print a set-password link for the console (24 h, one use)"
    )
    link.add_argument("username")
    link.set_defaults(func=_user_password_link)
    disable = user_sub.add_parser("disable", help="disable an account (log-in, sessions, token)")
    disable.add_argument("username")
    disable.set_defaults(func=_user_disable)
    token = user_sub.add_parser("token", help="issue a fresh API token (the old one stops working)")
    token.add_argument("username")
    token.set_defaults(func=_user_token)
    revoke = user_sub.add_parser("revoke", help="revoke a user's API token")
    revoke.add_argument("username")
    revoke.set_defaults(func=_user_revoke)
