"""Start-up of the command line: median wall and CPU time of `dispatcher --help`, `validate` and
`plan` of the sample campaign (with no database, and with one at the current schema), beside the
floors measured in the same run: a bare interpreter, click, and click + PyYAML + pydantic with
one model built (what any command that reads a file needs before doing anything).

    .venv/bin/python bench/startup.py            # 7 runs each
    .venv/bin/python bench/startup.py --runs 15

Wall time is what an operator waits; on a machine shared with other work it swings with the
load, so the CPU time of each process (user + system) is printed beside it, the steadier figure
to compare. Modules are read from a bytecode cache of the run's own, written by the warm-up run
as an installed package has one (with PYTHONDONTWRITEBYTECODE set and no __pycache__ in the
checkout, the project's modules would be compiled again at every start: some 0.05 s more).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import print_header

REPO = Path(__file__).resolve().parent.parent
DISPATCHER = str(Path(sys.executable).parent / "dispatcher")
CAMPAIGN = "campaigns/2g-shutdown-2024.yaml"
ONE_MODEL = "import click, yaml, pydantic\nclass M(pydantic.BaseModel):\n    x: int\nM(x=1)"
FLOORS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python: import click": [sys.executable, "-c", "import click"],
    "click+yaml+pydantic, 1 model": [sys.executable, "-c", ONE_MODEL],
}
COMMANDS = {
    "dispatcher --help": [DISPATCHER, "--help"],
    "dispatcher send --help": [DISPATCHER, "send", "--help"],
    "validate (sample)": [DISPATCHER, "validate", CAMPAIGN],
    "plan (sample)": [DISPATCHER, "plan", CAMPAIGN],
}
WITH_DATABASE = {"plan (sample), current database": [DISPATCHER, "plan", CAMPAIGN]}


def _seconds(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``argv``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, cwd=REPO, capture_output=True, check=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _measure(name: str, argv: list[str], env: dict[str, str], runs: int) -> None:
    _seconds(argv, env)  # warm the file cache (and write the bytecode cache)
    walls, cpus = zip(*(_seconds(argv, env) for _ in range(runs)), strict=True)
    print(
        f"{name:34} {statistics.median(walls):6.3f} ({min(walls):.3f}, {max(walls):.3f})"
        f"   {statistics.median(cpus):6.3f} ({min(cpus):.3f}, {max(cpus):.3f})",
        flush=True,
    )


def _environment(folder: Path, database: Path) -> dict[str, str]:
    env = dict(os.environ, DISPATCHER_DB_URL=f"sqlite:///{database}")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print_header()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = _environment(folder, folder / "absent.sqlite3")
        print(
            f"{'':34} {'wall s: median (min, max)':26}   CPU s: median (min, max); {args.runs} runs"
        )
        for name, argv in (FLOORS | COMMANDS).items():
            _measure(name, argv, env, args.runs)
        current = _environment(folder, folder / "current.sqlite3")
        upgrade = [DISPATCHER, "db", "upgrade"]
        subprocess.run(upgrade, cwd=REPO, env=current, check=True, capture_output=True)
        for name, argv in WITH_DATABASE.items():
            _measure(name, argv, current, args.runs)
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
