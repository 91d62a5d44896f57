"""The `heard` command: run Heard, manage its database, check frameworks, and expose the
same screening and mapping functions the chat path uses.

Every expected failure (a bad framework file, an unreachable database) is one clear
line on stderr and exit code 2, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import os
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


# ---- staff accounts and the outbox -----------------------------------------
def cmd_staff_add(args: argparse.Namespace) -> int:
    from bot.auth.passwords import generate_password, hash_password
    from framework.db import repository as repo
    from framework.db.engine import make_engine, make_session_factory
    from framework.db.models import ROLES, ROLES_WITHOUT_SCHOOL

    def refuse(reason: str) -> int:
        print(f"heard: {reason}", file=sys.stderr)
        return EXIT_USAGE

    if args.role not in ROLES:
        return refuse(f"there is no role '{args.role}': use one of {', '.join(ROLES)}")
    if "@" not in args.email.strip("@"):
        return refuse(f"'{args.email}' is not an email address")
    if args.role == "la_officer" and args.school_urn:
        return refuse("a la_officer works across schools: leave out --school-urn")
    if args.role not in ROLES_WITHOUT_SCHOOL and not args.school_urn:
        return refuse(f"a {args.role} belongs to one school: add --school-urn URN")
    if args.role == "la_officer" and not args.council:
        return refuse("a la_officer sees one council's schools: add --council NAME")
    if args.role != "la_officer" and args.council:
        return refuse("only a la_officer belongs to a council: leave out --council")
    engine = make_engine()
    try:
        with make_session_factory(engine).begin() as db:
            if repo.find_staff_by_email(db, args.email) is not None:
                return refuse(f"there is already an account for {repo.normalise_email(args.email)}")
            school = repo.find_school_by_urn(db, args.school_urn) if args.school_urn else None
            if args.school_urn and school is None:
                return refuse(f"no school has the URN {args.school_urn}")
            council = repo.find_council_by_name(db, args.council) if args.council else None
            if args.council and council is None:
                known = ", ".join(c.name for c in repo.list_councils(db)) or "none yet"
                return refuse(f"no council is called '{args.council}' (councils: {known}); "
                              f"an admin adds councils at {_staff_url()}/admin/councils")
            password = generate_password()
            staff = repo.create_staff(db, args.email, hash_password(password), args.role, school, council)
            staff.must_change_password = True  # whoever ran this has seen it
            where = f" at {school.name}" if school else f" for {council.name}" if council else ""
    finally:
        engine.dispose()
    print(f"Created the {staff.role} account {staff.email}{where}. They sign in at {_staff_url()}")
    print(f"Password: {password}")
    print("This password is shown only now: give it to them safely. They choose their own when they first sign in.")
    return 0


def cmd_pupil_erase(args: argparse.Namespace) -> int:
    from bot.erasure import erase_pupil
    from framework.db.engine import make_engine, make_session_factory
    from framework.db.models import Pupil
    from framework.settings import get_settings

    engine = make_engine()
    try:
        with make_session_factory(engine).begin() as db:
            pupil = db.get(Pupil, args.pupil_id)
            if pupil is None:
                print(f"heard: there is no pupil with the id {args.pupil_id}", file=sys.stderr)
                return EXIT_USAGE
            if not args.yes:
                answer = input(f"Erase everything {pupil.display_name} (id {pupil.id}) said? "
                               "Safeguarding alerts are kept. Type yes to erase: ")
                if answer.strip().lower() != "yes":
                    print("Nothing was erased.")
                    return 1
            erased = erase_pupil(db, pupil, get_settings(), by=None)
    finally:
        engine.dispose()
    checkins = erased.deleted.checkins
    print(f"Erased {checkins.sessions} check-in(s): {checkins.answers} answer(s), {checkins.comments} comment(s), "
          f"{checkins.messages} message(s), {erased.tracker_events} chat engine event(s).")
    if erased.deleted.alerts_kept:
        print(f"Kept {erased.deleted.alerts_kept} safeguarding alert(s), and the pupil's name for them.")
    return 0


def _staff_url() -> str:
    from framework.settings import get_settings

    return get_settings().resolved_staff_url


def cmd_outbox_send(args: argparse.Namespace) -> int:
    from bot.outbox import send_due
    from framework.db.engine import make_engine, make_session_factory
    from framework.settings import get_settings

    engine = make_engine()
    try:
        run = send_due(make_session_factory(engine), get_settings())
    finally:
        engine.dispose()
    print(f"Sent {run.sent} email(s).")
    if run.failed:
        print(f"heard: {run.failed} email(s) not sent; they stay queued and are tried again later:", file=sys.stderr)
        for error in run.errors:
            print(f"  {error}", file=sys.stderr)
        return 1
    return 0


# ---- run --------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    import os

    from bot.supervision import SUPERVISORD, for_this_machine, missing_programs, one_of_each, write_supervisor_config
    from framework.settings import get_settings

    settings = for_this_machine(get_settings())
    if missing := missing_programs(settings):
        # Still a working Heard, on one core: say what would use them all.
        print(f"heard: {', '.join(missing)} not installed, so one of each process runs. "
              "Install with scripts/system-deps (as root).", file=sys.stderr)
        settings = for_this_machine(one_of_each(get_settings()))
        if "redis-server" in missing:  # one Rasa server keeps its locks in memory
            settings = settings.model_copy(update={"redis_url": ""})
    try:
        config = write_supervisor_config(settings)
    except RuntimeError as exc:
        print(f"heard: {exc}. Start it, or leave HEARD_REDIS_URL empty.", file=sys.stderr)
        return EXIT_USAGE
    print(f"Heard is starting. Young people: {settings.public_url}/   Staff: {settings.resolved_staff_url}   Health: {settings.public_url}/healthz")
    print(f"Rasa servers: {settings.rasa_workers}, action servers: {settings.action_workers}, web workers: {settings.web_workers}"
          " (HEARD_RASA_WORKERS, HEARD_ACTION_WORKERS, HEARD_WEB_WORKERS).")
    print(f"Each part restarts by itself if it stops. Logs: {settings.var_dir / 'log'}/. Press Ctrl-C to stop everything.", flush=True)
    # supervisord takes this process's place; every part it starts sees exactly these settings.
    os.execve(sys.executable, [*SUPERVISORD, "-c", str(config)], {**os.environ, **settings.as_env()})


# ---- read-aloud --------------------------------------------------------------
def cmd_audio_build(args: argparse.Namespace) -> int:
    from accessibility.tts import SpeechUnavailable
    from bot.chat.gateway import speech_cache
    from framework.settings import get_settings

    speech = speech_cache(get_settings().var_dir / "audio")
    print(f"Making read-aloud audio for {len(speech.fixed_prompts)} fixed prompts in {speech.folder} ...", flush=True)
    try:
        made = speech.build()
    except SpeechUnavailable as exc:
        print(f"heard: {exc}. Install espeak-ng (make setup does).", file=sys.stderr)
        return EXIT_USAGE
    print(f"Done: {made['cached']} already made, {made['gtts']} by gTTS, {made['espeak-ng']} by espeak-ng (offline voice).")
    return 0


# ---- screening and mapping --------------------------------------------------
def cmd_screen(args: argparse.Namespace) -> int:
    from bot.safeguarding.screen import default_screener

    screener = default_screener()  # the rules and the worry signal, as the chat screens
    _emit_lines(
        _texts(args.text),
        lambda text: screener.screen(text).as_json(text),
        args.json,
        lambda r: ("RISK " + ", ".join(r["categories"]) + " — " + "; ".join(r["evidence"])) if r["risk"] else "no risk found",
    )
    return 0


def cmd_map(args: argparse.Namespace) -> int:
    from framework.loader import framework_files
    from framework.mapping import mapper_for
    from framework.worry import worry_signal

    if args.build_encoder:
        from framework.onnx_encoder import MINILM_MODEL, MPNET_MODEL, build

        for built in (MINILM_MODEL, MPNET_MODEL):
            print(f"{built.name} sentence encoder: {build(built)}")
        return 0
    if args.prepare:
        for framework_id in framework_files():
            mapper_for(framework_id)
            print(f"{framework_id}: example vectors ready")
        worry_signal()  # the screen's worry examples borrow the comment examples too
        print("safeguarding: example vectors ready")
        return 0
    if args.text is None:
        print("heard map: give TEXT, or - to read lines from stdin", file=sys.stderr)
        return 2
    mapper = mapper_for(args.framework)
    _emit_lines(
        _texts(args.text),
        mapper.as_json,
        args.json,
        lambda r: "\n".join(f"{m['score']:.2f}  {m['statement_id']}  ({m['area_title']})" for m in r["matches"])
        or f"no statement fits (confidence {r['confidence']:.2f})",
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="heard", description="Heard: pupil voice for children and young people with SEND.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="start and supervise the web app, Rasa and the action server (Ctrl-C stops all)")
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

    staff = sub.add_parser("staff", help="staff accounts").add_subparsers(dest="staff_command", required=True)
    staff_add = staff.add_parser("add", help="make a staff account; its password is printed once")
    staff_add.add_argument("--email", required=True)
    staff_add.add_argument("--role", required=True, help="admin, senco, dsl (safeguarding lead) or la_officer")
    staff_add.add_argument("--school-urn", help="the school's URN (needed for senco and dsl)")
    staff_add.add_argument("--council", help="the council's name, as on the admins' councils page (needed for la_officer)")
    staff_add.set_defaults(func=cmd_staff_add)

    pupil = sub.add_parser("pupil", help="pupils' data").add_subparsers(dest="pupil_command", required=True)
    erase = pupil.add_parser("erase", help="erase everything a pupil said (safeguarding alerts are kept); audited")
    erase.add_argument("pupil_id", type=int, metavar="ID", help="the pupil's id (in the address of their staff page)")
    erase.add_argument("--yes", action="store_true", help="do not ask to confirm")
    erase.set_defaults(func=cmd_pupil_erase)

    outbox = sub.add_parser("outbox", help="emails to staff").add_subparsers(dest="outbox_command", required=True)
    outbox_send = outbox.add_parser("send", help="send the emails that are due now (the web app also does this)")
    outbox_send.set_defaults(func=cmd_outbox_send)

    audio = sub.add_parser("audio", help="read-aloud audio").add_subparsers(dest="audio_command", required=True)
    build = audio.add_parser("build", help="make the audio of every fixed bot prompt ahead of time (gTTS, else espeak-ng)")
    build.set_defaults(func=cmd_audio_build)

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
    mapping.add_argument("text", metavar="TEXT", nargs="?", help="text to map, or - for one text per line on stdin")
    mapping.add_argument("--framework", default="york")
    mapping.add_argument("--json", action="store_true", help="print JSON")
    mapping.add_argument("--prepare", action="store_true",
                         help="compute and cache every framework's example vectors, and the safeguarding screen's (make setup does this)")
    mapping.add_argument("--build-encoder", action="store_true",
                         help="build the sentence encoders (MiniLM, and MPNet with int8 weights) for onnxruntime under models/ unless built (make setup does this)")
    mapping.set_defaults(func=cmd_map)
    return parser


def main(argv: list[str] | None = None) -> int:
    from framework.db.engine import DatabaseUnavailable
    from framework.private_files import PRIVATE_UMASK

    # What heard and the processes it starts create (databases, audio, Rasa's files) is private.
    os.umask(PRIVATE_UMASK)
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
