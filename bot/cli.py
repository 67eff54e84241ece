"""The ``pana`` command line.

pana serve [--host H] [--port P] [--workers N]   run the web server
pana chat                                        talk to the bot in the terminal
pana db upgrade                                  apply database migrations
pana kb check [PATH]                             validate the knowledge files (in PATH)
pana eval [--cases DIR] [--verbose] [--safety]   measure understanding accuracy / danger recall
pana unanswered [--days N]                       what people asked that Pana could not answer
pana purge                                       delete data older than RETENTION_DAYS
pana flyer --org CODE [--lang es|en] [--out F]   printable flyer (PDF, PNG; A4 and A5)
pana telegram set-webhook                        register the Telegram webhook
pana staff add --org CODE --name N --email E [--role agent|coordinator]
                                                 an inbox account (prints its password once)
pana staff list | pana staff revoke --email E    the accounts; end one and its sessions
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
from collections.abc import Sequence

from bot.settings import Settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    # Everything the server writes (the SQLite files, a development key) is private.
    os.umask(0o077)
    settings = Settings()
    from bot.database import make_database
    from bot.migrate import upgrade

    upgrade(make_database(settings.database_url))
    # One id for this run, inherited by every worker: a retry of a delivery taken by an
    # earlier (crashed) run may be answered again; one taken by this run may not.
    os.environ["PANA_GENERATION"] = secrets.token_hex(8)
    uvicorn.run(
        "bot.main:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=20,
        timeout_keep_alive=settings.keep_alive_seconds,
        # X-Forwarded-For is read by the app itself, from FORWARDED_ALLOW_IPS only.
        proxy_headers=False,
        access_log=False,
    )
    return 0


def _chat(_: argparse.Namespace) -> int:
    from bot.console import run_console

    return run_console()


def _db(args: argparse.Namespace) -> int:
    from bot.database import make_database
    from bot.migrate import upgrade

    os.umask(0o077)
    settings = Settings()
    upgrade(make_database(settings.database_url))
    print("database is up to date")
    return 0


def _kb(args: argparse.Namespace) -> int:
    from bot.knowledge_check import check
    from knowledge.loader import load_files

    kb, problems = load_files()
    problems += check(kb)
    shown = [p for p in problems if args.path in p.path]
    for problem in shown:
        print(problem)
    print(
        f"{len(kb.topics)} topics, {len(kb.organisations)} organisations, "
        f"{len(kb.consulates)} consulates, {len(kb.cities)} cities, {len(kb.menus)} menus: "
        f"{'OK' if not shown else f'{len(shown)} problem(s)'}"
    )
    return 1 if shown else 0


def _eval(args: argparse.Namespace) -> int:
    if args.safety:
        from bot.safety_eval import main as evaluate_safety

        return evaluate_safety(args.cases or "tests/safety_unseen")
    from bot.evaluation import main as evaluate

    cases = args.cases or "tests/conversations"
    return evaluate(cases, verbose=args.verbose, minimum=args.minimum)


def _unanswered(args: argparse.Namespace) -> int:
    from bot.reports import print_unanswered

    return print_unanswered(Settings(), days=args.days, kind=args.kind)


def _flyer(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.flyer import find_organisation, flyer_content, write_flyers
    from knowledge import load_knowledge

    settings = Settings()
    if not settings.whatsapp_number:
        print("set WHATSAPP_NUMBER (E.164, like +51999999999) first", file=sys.stderr)
        return 2
    kb = load_knowledge()
    try:
        org = find_organisation(kb, args.org)
    except LookupError as exc:
        codes = ", ".join(sorted(o.code for o in kb.organisations.values()))
        print(f"{exc}\nknown codes: {codes}", file=sys.stderr)
        return 2
    try:
        content = flyer_content(
            kb, org, args.lang, settings.whatsapp_number, settings.telegram_bot_username
        )
    except ValueError as exc:  # a malformed WHATSAPP_NUMBER or TELEGRAM_BOT_USERNAME
        print(exc, file=sys.stderr)
        return 2
    out = Path(args.out or f"flyer-{org.id}-{args.lang}.pdf")
    try:
        written = write_flyers(content, out, dpi=args.dpi)
    except OSError as exc:
        print(f"cannot write the flyer: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


def _purge(_: argparse.Namespace) -> int:
    from bot.database import make_database
    from bot.storage.retention import purge_expired

    os.umask(0o077)
    settings = Settings()
    removed = purge_expired(
        make_database(settings.database_url),
        settings.retention_days,
        handoff_days=settings.handoff_retention_days,
    )
    print(
        f"removed {removed['conversations']} conversation(s), {removed['deliveries']} "
        f"delivery record(s) and {removed['questions']} unanswered question(s) older than "
        f"{settings.retention_days} days"
    )
    return 0


def _telegram(args: argparse.Namespace) -> int:
    from bot.channels.telegram import make_bot, set_webhook

    settings = Settings()
    if not (settings.telegram_bot_token and settings.public_base_url):
        print("set TELEGRAM_BOT_TOKEN and PUBLIC_BASE_URL first", file=sys.stderr)
        return 2
    if not settings.telegram_webhook_secret:
        print("set TELEGRAM_WEBHOOK_SECRET first (any long random string)", file=sys.stderr)
        return 2
    bot = make_bot(settings.telegram_bot_token, settings.telegram_api_base_url)
    ok = asyncio.run(set_webhook(bot, settings.public_base_url, settings.telegram_webhook_secret))
    print("webhook registered" if ok else "Telegram refused the webhook")
    return 0 if ok else 1


def _staff(args: argparse.Namespace) -> int:
    from bot.database import make_database
    from bot.inbox import accounts
    from bot.migrate import upgrade
    from knowledge import load_knowledge

    settings = Settings()
    database = make_database(settings.database_url)
    upgrade(database)
    if args.action == "list":
        for member, active in accounts.list_staff(database):
            state = "active" if active else "revoked"
            print(f"{member.org:<16} {member.role:<12} {state:<8} {member.name} <{member.email}>")
        return 0
    if not args.email:
        print("--email is needed", file=sys.stderr)
        return 2
    if args.action == "revoke":
        if not accounts.revoke(database, args.email):
            print(f"no account for {args.email}", file=sys.stderr)
            return 1
        print(f"{args.email}: revoked, sessions ended")
        return 0
    kb = load_knowledge()
    wanted = (args.org or "").lower()
    org = next((o for o in kb.organisations.values() if wanted in (o.id, o.code.lower())), None)
    if org is None or not args.name:
        codes = ", ".join(sorted(o.code for o in kb.organisations.values()))
        print(f"--name and --org (one of: {codes}) are needed", file=sys.stderr)
        return 2
    password = os.environ.get("PANA_STAFF_PASSWORD") or None
    try:
        password = accounts.add_staff(database, org.id, args.name, args.email, args.role, password)
    except accounts.AccountError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"{args.email} ({args.role}) can now answer hand-offs for {org.name} at /inbox.")
    if not os.environ.get("PANA_STAFF_PASSWORD"):
        print(f"Password (shown once; give it to them privately): {password}")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="pana", description="Pana helpline bot")
    commands = root.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the web server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(run=_serve)

    commands.add_parser("chat", help="talk to the bot in this terminal").set_defaults(run=_chat)

    db = commands.add_parser("db", help="database tasks")
    db.add_argument("action", choices=["upgrade"])
    db.set_defaults(run=_db)

    kb = commands.add_parser("kb", help="knowledge base tasks")
    kb.add_argument("action", choices=["check"])
    kb.add_argument(
        "path", nargs="?", default="", help="only problems in files whose path has this"
    )
    kb.set_defaults(run=_kb)

    evaluation = commands.add_parser("eval", help="measure understanding on the conversation set")
    evaluation.add_argument("--cases", default=None, help="a folder of cases")
    evaluation.add_argument(
        "--safety", action="store_true", help="danger recall and false alarms (tests/safety_unseen)"
    )
    evaluation.add_argument("--verbose", action="store_true", help="show every failure in full")
    evaluation.add_argument("--minimum", type=float, default=0.95)
    evaluation.set_defaults(run=_eval)

    unanswered = commands.add_parser("unanswered", help="questions Pana could not answer")
    unanswered.add_argument("--days", type=int, default=30)
    unanswered.add_argument("--kind", choices=["unanswered", "near_miss"], default="unanswered")
    unanswered.set_defaults(run=_unanswered)

    commands.add_parser("purge", help="delete old data now").set_defaults(run=_purge)

    flyer = commands.add_parser("flyer", help="printable flyer with QR codes for an organisation")
    flyer.add_argument("--org", required=True, help="organisation id or referral code")
    flyer.add_argument("--lang", choices=["es", "en"], default="es")
    flyer.add_argument("--out", help="PDF path (default flyer-<org>-<lang>.pdf)")
    flyer.add_argument("--dpi", type=int, default=150, choices=[100, 150, 200, 300])
    flyer.set_defaults(run=_flyer)

    staff = commands.add_parser("staff", help="inbox accounts for partner organisations")
    staff.add_argument("action", choices=["add", "list", "revoke"])
    staff.add_argument("--org", help="organisation id or referral code (add)")
    staff.add_argument("--name", help="the person's name (add)")
    staff.add_argument("--email", help="their e-mail, used to log in")
    staff.add_argument("--role", choices=["agent", "coordinator"], default="agent")
    staff.set_defaults(run=_staff)

    tg = commands.add_parser("telegram", help="Telegram tasks")
    tg.add_argument("action", choices=["set-webhook"])
    tg.set_defaults(run=_telegram)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
