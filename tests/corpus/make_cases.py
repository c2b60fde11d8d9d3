"""Write the bad-input corpus: one directory per case with its exports, config and expectations.

Run `python tests/corpus/make_cases.py` after changing a case here and commit what it writes;
the tests read the committed files and never run this script (no network, no randomness).

Every case starts from the same tiny, clean set of exports and one small config (base.py: a
handful of rows per table, too few labels to train, so `train` refuses quickly and the points
model scores). A case (cases_*.py) breaks one thing and says in `expected.yaml` what
`leadctl run` must do about it:

  description   what is broken and why it matters
  as_of         the --as-of date (default 2026-11-20)
  args          extra `leadctl run` arguments
  setup         steps the runner performs first (things git cannot store): chmod_000 <path>,
                sample {n_leads, seed} (generate exports into inputs/ with leadctl.sample),
                pre_run <config> [as_of] (run once first: another config leaves a model behind,
                an earlier as_of leaves last night's state), truncate <path> (cut a file in half),
                replace_input {path: source} (tonight's export differs from last night's)
  exit_code     the documented exit code
  message       words stderr must contain (case-insensitive): the file, column, row, remedy
  rejects       rows each table must reject (tables not named: 0 when the run gets that far)
  reject_rows   the file row numbers the rejects must name: {table: [rows]}
  message_rejects  words the rejects' _reason column must contain
  valid         valid rows a table must keep: {table: rows}
  canonical     values a table must hold after ingest: [{table, key, column, value}]
  mql, assigned MQL rows rate must give, rows assign must assign
  overflow_reasons  the set of reasons in overflow.csv (non-empty)
  manifest      {dotted key: words its value must contain} in manifest.json
  xfail         reason, when the case documents a known gap (strict: it must still fail)

Besides these, the runner (tests/test_corpus.py) checks every case for tracebacks, e-mail
addresses in what was printed, leftover temp files and row conservation.
"""

from __future__ import annotations

import shutil
from pathlib import Path

# This folder is on sys.path when the file runs as a script; importing the modules registers
# their cases in base.CASES.
import cases_data  # noqa: F401
import cases_files  # noqa: F401
import cases_night  # noqa: F401
from base import CASES

HERE = Path(__file__).resolve().parent


def main() -> None:
    names = set()
    for build in CASES:
        c = build()
        assert c.name not in names, c.name
        names.add(c.name)
        c.write(HERE)
    for folder in sorted(p for p in HERE.iterdir() if p.is_dir() and p.name not in names):
        if (folder / "expected.yaml").exists():
            shutil.rmtree(folder)
    print(f"wrote {len(names)} cases into {HERE}")


if __name__ == "__main__":
    main()
