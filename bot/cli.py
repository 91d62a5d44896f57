"""The `heard` command: run Heard, manage its database, check frameworks, and expose the
same screening and mapping functions the chat path uses.

Every expected failure (a bad framework file, an unreachable database) is one clear
line on stderr and exit code 2, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from framework.loader import FrameworkError

EXIT_USAGE = 2


def _texts(arg: str) -> Iterable[str]:
    """TEXT, or '-' for one text per line on stdin."""
    if arg != "-":
        yield arg
        return
    for line in sys.stdin:
        yield line.rstrip("\n")


def _emit_lines(texts: Iterable[str], to_json: Callable[[str], dict], as_json: bool, describe: Callable[[dict], str]) -> None:
    for text in texts:
        result = to_json(text)
        print(json.dumps(result, ensure_ascii=False) if as_json else describe(result), flush=True)


# ---- framework --------------------------------------------------------------
def cmd_framework_check(args: argparse.Namespace) -> int:
    from framework.loader import framework_files, load_framework_file

    paths = [Path(p) for p in args.files] or list(framework_files().values())
    failed = 0
    for path in paths:
        try:
            fw = load_framework_file(path)
        except FrameworkError as exc:
            failed += 1
            print(f"{path}: {len(exc.problems)} problem(s)", file=sys.stderr)
            for problem in exc.problems:
                print(f"  {problem}", file=sys.stderr)
            continue
        statements = sum(len(a.statements) for a in fw.areas)
        print(f"{path}: ok ({fw.id}: {len(fw.areas)} areas, {statements} statements)")
    return 1 if failed else 0


def cmd_framework_stats(args: argparse.Namespace) -> int:
    from framework.loader import all_frameworks, load_framework

    frameworks = [load_framework(args.framework)] if args.framework else list(all_frameworks().values())
    for fw in frameworks:
        print(f"{fw.id}: {fw.title}")
        perspectives = list(fw.perspectives)
        print("  " + "area".ljust(28) + "".join(p[:22].rjust(24) for p in perspectives))
        for area in fw.areas:
            counts = [sum(1 for s in area.statements if s.perspective == p) for p in perspectives]
            print("  " + area.id.ljust(28) + "".join(str(c).rjust(24) for c in counts))
        for qs in ("core", "standard", "full"):
            sizes = {p: len(fw.questions(p, qs)) for p in perspectives if fw.perspectives[p].questions_required}
            print(f"  question set {qs}: " + ", ".join(f"{p} {n}" for p, n in sizes.items()))
    return 0


# ---- database ---------------------------------------------------------------
def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from framework.db.engine import upgrade

    upgrade(revision=args.revision)
    print(f"Database is at migration '{args.revision}'.")
    return 0


def cmd_db_downgrade(args: argparse.Namespace) -> int:
    from framework.db.engine import downgrade

    downgrade(None, args.revision)
    print(f"Database is at migration '{args.revision}'.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo import create_demo

    for line in create_demo():
        print(line)
    return 0


# ---- run --------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    from honcho.manager import Manager

    from bot.processes import all_processes
    from framework.settings import get_settings

    settings = get_settings()
    manager = Manager()
    for process in all_processes(settings):
        manager.add_process(process.name, shlex.join(process.argv), env=process.environ(settings))
    print(f"Heard is starting. Young people: {settings.public_url}/   Staff: {settings.public_url}/staff   Health: {settings.public_url}/healthz")
    print("Press Ctrl-C to stop everything.")
    manager.loop()
    return manager.returncode or 0


# ---- screening and mapping --------------------------------------------------
def cmd_screen(args: argparse.Namespace) -> int:
    from bot.safeguarding.screen import Screener

    screener = Screener()
    _emit_lines(
        _texts(args.text),
        lambda text: screener.screen(text).as_json(text),
        args.json,
        lambda r: ("RISK " + ", ".join(r["categories"]) + " — " + "; ".join(r["evidence"])) if r["risk"] else "no risk found",
    )
    return 0


def cmd_map(args: argparse.Namespace) -> int:
    from framework.loader import load_framework
    from framework.mapping import CommentMapper

    mapper = CommentMapper(load_framework(args.framework))
    _emit_lines(
        _texts(args.text),
        mapper.as_json,
        args.json,
        lambda r: "\n".join(f"{m['score']:.2f}  {m['statement_id']}  ({m['area_title']})" for m in r["matches"]) or "no statement fits",
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="heard", description="Heard: pupil voice for children and young people with SEND.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="start the web app, Rasa and the action server (Ctrl-C stops all)")
    run.set_defaults(func=cmd_run)

    db = sub.add_parser("db", help="the outcomes database").add_subparsers(dest="db_command", required=True)
    up = db.add_parser("upgrade", help="apply migrations (default: to the newest)")
    up.add_argument("--revision", default="head")
    up.set_defaults(func=cmd_db_upgrade)
    down = db.add_parser("downgrade", help="undo migrations down to REVISION ('base' for none)")
    down.add_argument("revision")
    down.set_defaults(func=cmd_db_downgrade)

    demo = sub.add_parser("demo", help="create a demo school, staff and pupils with invites (safe to re-run)")
    demo.set_defaults(func=cmd_demo)

    fw = sub.add_parser("framework", help="outcomes frameworks").add_subparsers(dest="fw_command", required=True)
    check = fw.add_parser("check", help="validate framework files (default: the bundled ones)")
    check.add_argument("files", nargs="*", metavar="FILE")
    check.set_defaults(func=cmd_framework_check)
    stats = fw.add_parser("stats", help="count statements per area and perspective")
    stats.add_argument("framework", nargs="?")
    stats.set_defaults(func=cmd_framework_stats)

    screen = sub.add_parser("screen", help="the safeguarding screen the chat runs on every message")
    screen.add_argument("text", metavar="TEXT", help="text to screen, or - for one text per line on stdin")
    screen.add_argument("--json", action="store_true", help="print JSON")
    screen.set_defaults(func=cmd_screen)

    mapping = sub.add_parser("map", help="which outcome statements a free-text comment speaks to")
    mapping.add_argument("text", metavar="TEXT", help="text to map, or - for one text per line on stdin")
    mapping.add_argument("--framework", default="york")
    mapping.add_argument("--json", action="store_true", help="print JSON")
    mapping.set_defaults(func=cmd_map)
    return parser


def main(argv: list[str] | None = None) -> int:
    from framework.db.engine import DatabaseUnavailable

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (FrameworkError, DatabaseUnavailable) as exc:
        print(f"heard: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
