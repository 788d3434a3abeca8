"""Start-up of the command line: median wall time of `dispatcher --help`, `validate` and `plan`
of the sample campaign, beside a bare `python -c pass` (the floor) in the same run.

    .venv/bin/python bench/startup.py            # 7 runs each
    .venv/bin/python bench/startup.py --runs 15
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DISPATCHER = str(Path(sys.executable).parent / "dispatcher")
CAMPAIGN = "campaigns/2g-shutdown-2024.yaml"
COMMANDS = {
    "python -c pass (floor)": [sys.executable, "-c", "pass"],
    "dispatcher --help": [DISPATCHER, "--help"],
    "dispatcher send --help": [DISPATCHER, "send", "--help"],
    "dispatcher validate (sample)": [DISPATCHER, "validate", CAMPAIGN],
    "dispatcher plan (sample)": [DISPATCHER, "plan", CAMPAIGN],
}


def _seconds(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=REPO, capture_output=True, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    for argv in COMMANDS.values():
        _seconds(argv)  # warm the file cache
    print(f"{'command':32} median s  (of {args.runs}; min, max)")
    for name, argv in COMMANDS.items():
        times = [_seconds(argv) for _ in range(args.runs)]
        print(f"{name:32} {statistics.median(times):7.3f}  ({min(times):.3f}, {max(times):.3f})")


if __name__ == "__main__":
    main()
