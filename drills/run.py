"""`make drills`: every fault drill on one stack, a table, and docs/reliability.md.

python -m drills.run                  # the full drills (~15 minutes)
python -m drills.run --reduced        # the small version the test suite runs
python -m drills.run "kill -9 routing" "poison event"   # some, by name
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from drills.catalogue import FULL, REDUCED, Result, Scale, catalogue, run_drill
from drills.world import open_world

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "reliability.md"
BEGIN, END = "<!-- drills:begin -->", "<!-- drills:end -->"

COLUMNS = (
    "drill",
    "events sent",
    "acknowledged",
    "stored",
    "duplicates",
    "lost",
    "replies sent",
    "received",
    "dup.",
    "lost ",
    "recovery s",
)


async def run(names: list[str], scale: Scale, workdir: Path) -> list[Result]:
    drills = catalogue()
    results = []
    # SIGTERM unwinds like Ctrl-C: every service, NATS and PostgreSQL are stopped.
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    async with open_world(workdir, scale.env) as world:
        for name in names:
            print(f"drill: {name}", file=sys.stderr, flush=True)
            results.append(await run_drill(world, name, drills[name], scale))
            await world.sim.clear_faults()
    return results


def row(result: Result) -> list[str]:
    t = result.tally
    recovery = "never" if result.recovery_s is None else f"{result.recovery_s:.1f}"
    return [
        result.drill,
        *(
            str(n)
            for n in (
                t.sent,
                t.acknowledged,
                t.stored,
                t.duplicates,
                t.lost,
                t.replies_sent,
                t.replies_received,
                t.reply_duplicates,
                t.replies_lost,
            )
        ),
        recovery,
    ]


def markdown(results: list[Result], scale: Scale) -> str:
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node() or 'this machine'}"
        f" ({platform.machine()}, Python {platform.python_version()}); load per drill: "
        f"{scale.users} users, {scale.rate:g} messages/s for {scale.seconds:g} s, "
        "counsellors answering every case each second.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|---|" + "---:|" * (len(COLUMNS) - 1),
    ]
    lines += ["| " + " | ".join(row(r)) + " |" for r in results]
    notes = [f"- **{r.drill}**: " + "; ".join(r.notes) for r in results if r.notes]
    return "\n".join([*lines, "", *notes])


def write_doc(table: str) -> None:
    text = DOC.read_text()
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{table}\n{END}{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="drills to run (default: all)")
    parser.add_argument("--reduced", action="store_true", help="the test suite's small load")
    parser.add_argument("--no-doc", action="store_true", help="do not rewrite the docs table")
    args = parser.parse_args(argv)
    names = args.names or list(catalogue())
    unknown = [n for n in names if n not in catalogue()]
    if unknown:
        parser.error(f"no such drill: {', '.join(unknown)}; known: {', '.join(catalogue())}")
    scale = REDUCED if args.reduced else FULL
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sodan-drills-") as workdir:
        results = asyncio.run(run(names, scale, Path(workdir)))
    table = markdown(results, scale)
    print(table)
    print(f"\n{len(results)} drills in {time.monotonic() - started:.0f} s")
    (ROOT / "docs" / "reliability.json").write_text(
        json.dumps([r.as_dict() for r in results], indent=2, ensure_ascii=False) + "\n"
    ) if not args.no_doc else None
    if not args.no_doc and not args.reduced and not args.names:
        write_doc(table)
    return 0 if all(r.tally.clean and r.recovery_s is not None for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
