"""Generate fictitious subscriber lists: the committed samples and big lists for benchmarks.

Every number is random digits from a seeded generator, never a real person's. Run without
options to rewrite the samples under ``campaigns/lists/``; with ``--rows N --out PATH`` to write
a big list with the same mix (add ``--opted-out PATH`` to also write a matching opt-out list).

Composition of the committed sample (``campaigns/lists/2g-only.csv``, seed 20241016); the
generator decides it and tests/integration/test_sample_lists.py checks the loader agrees:

    data rows   300  (+ header)
    valid       272  of which 63 pre-2018 11-digit numbers (each of the 21 old prefixes 3 times)
    invalid      16  4 Lạng Sơn landlines (0205), 3 too short, 3 with letters, 3 empty,
                     3 with a non-existent prefix (0521, 0891)
    duplicates   10  numbers repeated in another format, one of them an opted-out number
    excluded      2  numbers also on campaigns/lists/opted-out.csv

``campaigns/lists/opted-out.csv`` has 4 rows: the 2 excluded numbers (written differently)
and 2 numbers that are not in the list.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_LIST = ROOT / "campaigns" / "lists" / "2g-only.csv"
SAMPLE_OPTED_OUT = ROOT / "campaigns" / "lists" / "opted-out.csv"
SEED = 20241016  # the day 2G-only phones were cut off

# Current mobile prefixes (9-digit national numbers start with these two digits) and the
# operator that was given each one; since number portability (11/2018) the operator may differ.
CURRENT_PREFIXES = {
    "Viettel": ["32", "33", "34", "35", "36", "37", "38", "39", "86", "96", "97", "98"],
    "VinaPhone": ["81", "82", "83", "84", "85", "88", "91", "94"],
    "MobiFone": ["70", "76", "77", "78", "79", "90", "93"],
    "Vietnamobile": ["56", "58", "92"],
    "Gmobile": ["59"],
    "iTel": ["87"],
}
# Pre-2018 prefix (without the 0) → today's prefix, with the operator: the 2018 conversion.
OLD_PREFIXES = {
    "120": ("70", "MobiFone"), "121": ("79", "MobiFone"), "122": ("77", "MobiFone"),
    "126": ("76", "MobiFone"), "128": ("78", "MobiFone"),
    "123": ("83", "VinaPhone"), "124": ("84", "VinaPhone"), "125": ("85", "VinaPhone"),
    "127": ("81", "VinaPhone"), "129": ("82", "VinaPhone"),
    "162": ("32", "Viettel"), "163": ("33", "Viettel"), "164": ("34", "Viettel"),
    "165": ("35", "Viettel"), "166": ("36", "Viettel"), "167": ("37", "Viettel"),
    "168": ("38", "Viettel"), "169": ("39", "Viettel"),
    "186": ("56", "Vietnamobile"), "188": ("58", "Vietnamobile"),
    "199": ("59", "Gmobile"),
}  # fmt: skip
COMMUNES = [
    "Thị trấn Văn Quan", "Xã An Sơn", "Xã Bình Phúc", "Xã Điềm He", "Xã Đồng Giáp",
    "Xã Hòa Bình", "Xã Hữu Lễ", "Xã Khánh Khê", "Xã Liên Hội", "Xã Lương Năng", "Xã Tân Đoàn",
    "Xã Trấn Ninh", "Xã Tràng Các", "Xã Tràng Phái", "Xã Tri Lễ", "Xã Tú Xuyên", "Xã Yên Phúc",
]  # fmt: skip
# Common Tày, Nùng and Kinh family names in Lạng Sơn.
FAMILY = ["Hoàng", "Nông", "Lương", "Lộc", "Vi", "Chu", "Hà", "Lăng", "Mã", "Triệu", "Đinh",
          "Nguyễn", "Lê", "Trần", "Phạm", "Bế", "Hứa", "Lý", "Dương", "Ngô"]  # fmt: skip
MIDDLE = {"m": ["Văn", "Đức", "Văn", "Minh", "Quốc"], "f": ["Thị", "Thị", "Thu", "Ngọc"]}
GIVEN = {
    "m": ["Sáng", "Hùng", "Phúc", "Dũng", "Tuấn", "Cường", "Quý", "Thắng", "Lợi", "Hải",
          "Khánh", "Toàn", "Đạt", "Nghĩa", "Thanh", "Bình", "Tiến", "Sơn", "Trọng", "Hòa"],
    "f": ["Lan", "Mai", "Thắm", "Hạnh", "Thảo", "Nga", "Hoa", "Nhung", "Thơm", "Huyền",
          "Liên", "Hương", "Yến", "Dung", "Chuyên", "Phượng", "Xuân", "Hiền", "Lụa", "Tươi"],
}  # fmt: skip
OPT_OUT_NOTES = [
    "Gọi lên UBND xã xin không nhận tin nhắn",
    "Nhắn DK DNC tới 5656",
    "Yêu cầu qua tổ công nghệ số",
    "Đã chuyển sang máy 4G, không cần nhắc",
]


@dataclass(frozen=True)
class Plan:
    """How many rows of each kind to write; the loader must sort them into the same buckets."""

    valid_new: int = 209
    valid_old: int = 63
    landline: int = 4
    too_short: int = 3
    letters: int = 3
    empty: int = 3
    bad_prefix: int = 3
    duplicates: int = 10
    excluded: int = 2

    @property
    def rows(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))

    def scaled(self, rows: int, *, with_opt_out: bool) -> Plan:
        """The same mix for ``rows`` data rows; valid new-format numbers take up the rounding."""
        factor = rows / self.rows
        counts = {f.name: round(getattr(self, f.name) * factor) for f in fields(self)}
        counts["excluded"] = counts["excluded"] if with_opt_out else 0
        counts["valid_new"] = 0
        counts["valid_new"] = rows - sum(counts.values())
        if counts["valid_new"] < 0:
            raise SystemExit(f"--rows {rows} is too small for the mix")
        return Plan(**counts)


SAMPLE = Plan()


@dataclass(frozen=True)
class Row:
    kind: str  # the loader's bucket: valid / invalid / duplicate / excluded
    phone: str
    name: str
    commune: str
    carrier: str
    national: str = ""  # today's 9-digit national number, "" for invalid rows
    old: str = ""  # the pre-2018 10-digit national number when written in the old form


class Generator:
    """Draws fictitious people and numbers from one seeded random stream."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.used: set[str] = set()

    def person(self) -> tuple[str, str]:
        sex = self.rng.choice("mf")
        name = " ".join(
            (self.rng.choice(FAMILY), self.rng.choice(MIDDLE[sex]), self.rng.choice(GIVEN[sex]))
        )
        return name, self.rng.choice(COMMUNES)

    def digits(self, count: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(count))

    def fresh(self, prefix: str) -> str:
        """A 9-digit national number with ``prefix`` that no other row has used."""
        while True:
            national = prefix + self.digits(9 - len(prefix))
            if national not in self.used:
                self.used.add(national)
                return national

    def carrier(self, operator: str) -> str:
        # Lists typed by hand: some cells blank, some in another case.
        roll = self.rng.random()
        return "" if roll < 0.08 else operator.upper() if roll < 0.15 else operator

    def new_number(self, kind: str) -> Row:
        operator = self.rng.choice(list(CURRENT_PREFIXES))
        national = self.fresh(self.rng.choice(CURRENT_PREFIXES[operator]))
        return Row(kind, self.write_new(national), *self.person(), self.carrier(operator), national)

    def old_number(self, old_prefix: str) -> Row:
        new_prefix, operator = OLD_PREFIXES[old_prefix]
        national = self.fresh(new_prefix)
        old = old_prefix + national[2:]
        phone = self.write_old(old)
        return Row("valid", phone, *self.person(), self.carrier(operator), national, old)

    def invalid(self, kind: str) -> Row:
        makers: dict[str, Callable[[], str]] = {
            "landline": self.landline,
            "too_short": lambda: "0" + self.rng.choice(["9", "3", "8"]) + self.digits(7),
            "letters": lambda: self.rng.choice(["không có", "chưa có số", "09l2 345 678"]),
            "empty": lambda: "",
            "bad_prefix": lambda: self.rng.choice(["0521", "0891"]) + " " + self.digits(6),
        }
        return Row("invalid", makers[kind](), *self.person(), "")

    def landline(self) -> str:
        number = "3" + self.digits(6)
        return self.rng.choice(
            [f"0205 {number[:4]} {number[4:]}", f"(0205) {number}", f"0205{number}"]
        )

    def write_new(self, national: str, avoid: str = "") -> str:
        n = national
        # (form, weight): mostly the usual national forms, a few Excel and copy-paste leftovers.
        forms = [
            ("0" + n, 30), (f"0{n[:3]} {n[3:6]} {n[6:]}", 25), (f"0{n[:2]}.{n[2:5]}.{n[5:]}", 10),
            (f"0{n[:3]}-{n[3:6]}-{n[6:]}", 6), ("+84" + n, 6), ("84" + n, 6),
            (f"(+84) {n[:2]} {n[2:5]} {n[5:]}", 4), (f"+84 {n[:2]} {n[2:5]} {n[5:7]} {n[7:]}", 4),
            (n, 4), (n + ".0", 2), ("'0" + n, 2), (f"0{n[:3]}\u00a0{n[3:6]}\u00a0{n[6:]}", 1),
        ]  # fmt: skip
        return self._pick([(form, weight) for form, weight in forms if form != avoid])

    def _pick(self, weighted: list[tuple[str, int]]) -> str:
        return self.rng.choices([form for form, _ in weighted], [w for _, w in weighted])[0]

    def write_old(self, old: str, avoid: str = "") -> str:
        forms = [
            "0" + old, f"0{old[:3]} {old[3:6]} {old[6:]}", f"0{old[:3]}.{old[3:6]}.{old[6:]}",
            f"+84 {old[:3]} {old[3:6]} {old[6:]}", "84" + old, old,
        ]  # fmt: skip
        return self.rng.choice([form for form in forms if form != avoid])

    def rewrite(self, row: Row) -> Row:
        """The same subscriber's number written in another form (old numbers maybe in new form)."""
        if row.old and self.rng.random() < 0.5:
            phone = self.write_old(row.old, avoid=row.phone)
        else:
            phone = self.write_new(row.national, avoid=row.phone)
        return replace(row, kind="duplicate", phone=phone)


def generate(plan: Plan, seed: int) -> tuple[list[Row], list[Row]]:
    """Return the list rows (in file order) and the opt-out rows for ``plan``."""
    gen = Generator(seed)
    rows = [gen.new_number("valid") for _ in range(plan.valid_new)]
    old_prefixes = list(OLD_PREFIXES)
    rows += [gen.old_number(old_prefixes[i % len(old_prefixes)]) for i in range(plan.valid_old)]
    rows += [gen.new_number("excluded") for _ in range(plan.excluded)]
    for kind in ("landline", "too_short", "letters", "empty", "bad_prefix"):
        rows += [gen.invalid(kind) for _ in range(getattr(plan, kind))]
    gen.rng.shuffle(rows)
    rows = _with_duplicates(gen, rows, plan.duplicates)
    opted_out = [replace(row, phone=gen.write_new(row.national, avoid=row.phone))
                 for row in rows if row.kind == "excluded"]  # fmt: skip
    if opted_out:
        opted_out += [gen.new_number("opt-out only") for _ in range(2)]
    return rows, opted_out


def _with_duplicates(gen: Generator, rows: list[Row], count: int) -> list[Row]:
    """Insert ``count`` repeats, each somewhere after the row it repeats (first one: opted out)."""
    numbered = [i for i, row in enumerate(rows) if row.kind in ("valid", "excluded")]
    excluded = [i for i in numbered if rows[i].kind == "excluded"]
    targets = excluded[:1] + [gen.rng.choice(numbered) for _ in range(count - len(excluded[:1]))]
    after: dict[int, list[Row]] = {}
    for target in targets[:count]:
        slot = gen.rng.randrange(target, len(rows))
        after.setdefault(slot, []).append(gen.rewrite(rows[target]))
    merged: list[Row] = []
    for i, row in enumerate(rows):
        merged.append(row)
        merged += after.get(i, [])
    return merged


def write_list(path: Path, rows: list[Row]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["phone", "name", "commune", "carrier"])
        writer.writerows([row.phone, row.name, row.commune, row.carrier] for row in rows)


def write_opted_out(path: Path, rows: list[Row], seed: int) -> None:
    notes = random.Random(seed).sample(OPT_OUT_NOTES, k=min(len(rows), len(OPT_OUT_NOTES)))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["phone", "note"])
        writer.writerows([row.phone, notes[i % len(notes)]] for i, row in enumerate(rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=SAMPLE.rows, help="data rows to write")
    parser.add_argument("--out", type=Path, help="list to write (default: the sample)")
    parser.add_argument("--opted-out", type=Path, help="also write an opt-out list here")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    if args.out is None:
        args.out, args.opted_out = SAMPLE_LIST, args.opted_out or SAMPLE_OPTED_OUT
    plan = SAMPLE.scaled(args.rows, with_opt_out=args.opted_out is not None)
    rows, opted_out = generate(plan, args.seed)
    write_list(args.out, rows)
    if args.opted_out is not None:
        write_opted_out(args.opted_out, opted_out, args.seed)
    counts = Counter(row.kind for row in rows)
    print(f"{args.out}: {len(rows)} rows, " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
