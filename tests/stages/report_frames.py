"""A hand-built night for the report tests, with conversion rates and counts known by design.

As of 2026-11-20, product groups Analytics and Cloud, period 30 days (2026-10-22 .. 2026-11-20).

Rating snapshot of 2026-08-22 (90 days back), Analytics, 44 labelled leads:
  A1 x10 (is_mql, scores 95..86, propensity .40): a01-a04 convert          -> 40 %
  B2 x10 (is_mql, scores 70..61, propensity .20): b01-b02 convert          -> 20 %
  C4 x4  (override "Event VIP", scores 30..27, propensity .10): o1 converts -> 25 %
  D4 x20 (not MQL, scores 20..1, propensity .05): d01 converts             ->  5 %
  x1 (C3) had an opportunity before the snapshot: left out.
  Ordinary MQLs (A1 + B2): 6 / 20 = 30 %. Top 30 % (14 leads by score) hold 6 of 8 = 75 %.

Stage history (Analytics) in the period: h01-h10 enter Inquiry on 10-25; h01-h06 enter MQL on
10-28; h01-h03 SAL on 11-04 (7 days in MQL); h04, h05 Recycled on 11-05 (reasons "Timing" and
" no  budget "), h06 Disqualified on 11-05 without a reason (by r2); h01 SQL on 11-10.
Previous period: p1-p4 Inquiry on 10-01, p1-p2 MQL on 10-05.

Assignment log of 2026-11-03 (team East): s1, s2 to r1; s3, s4 to r2; assigned 11-04 00:00,
due 11-05 00:00. s1 touched 11-04 10:00 (met), s2 11-06 (late), s3 11-04 02:00 (met), s4 never.
s5 due 11-25 (pending). SLA: East 2 / 4 = 50 %.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from leadctl.config.lifecycle import LifecycleConfig
from leadctl.config.reporting import ReportConfig
from leadctl.stages.report_common import ReportContext, ReportInputs

AS_OF = date(2026, 11, 20)
SNAPSHOT = date(2026, 8, 22)
GROUPS = ["Analytics", "Cloud"]
UTC_DT = pl.Datetime("us", "UTC")


def ts(day: str, hour: int = 12) -> datetime:
    y, m, d = (int(p) for p in day.split("-"))
    return datetime(y, m, d, hour, tzinfo=UTC)


def _frame(rows: list[dict[str, Any]], schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row")


def snapshot() -> pl.DataFrame:
    """The 2026-08-22 rating snapshot (Analytics only)."""
    rows = []

    def add(
        lead: str, rating: str, score: float, prop: float, mql: bool, rule: str | None = None
    ) -> None:
        rows.append(
            {
                "lead_id": lead,
                "product_group": "Analytics",
                "rating": rating,
                "fit_grade": rating[0],
                "engagement_grade": rating[1],
                "score": score,
                "propensity": prop,
                "fit_score": score,
                "engagement_score": score,
                "is_mql": mql,
                "is_new_mql": mql,
                "override_rule": rule,
                "model_kind": "lightgbm",
                "model_version": "v1",
            }
        )

    for i in range(10):
        add(f"a{i + 1:02d}", "A1", 95.0 - i, 0.40, True)
    for i in range(10):
        add(f"b{i + 1:02d}", "B2", 70.0 - i, 0.20, True)
    for i in range(4):
        add(f"o{i + 1}", "C4", 30.0 - i, 0.10, True, "Event VIP")
    for i in range(20):
        add(f"d{i + 1:02d}", "D4", 20.0 - i, 0.05, False)
    add("x1", "C3", 40.0, 0.15, False)
    return pl.DataFrame(rows)


CONVERTERS = ["a01", "a02", "a03", "a04", "b01", "b02", "o1", "d01"]


def opportunities() -> pl.DataFrame:
    rows = [
        {
            "opportunity_id": f"op-{lead}",
            "lead_id": lead,
            "product_group": "Analytics",
            "created_at": ts("2026-09-15"),
            "account_id": None,
        }
        for lead in CONVERTERS
    ]
    rows.append(
        {
            "opportunity_id": "op-x1",
            "lead_id": "x1",
            "product_group": "Analytics",
            "created_at": ts("2026-08-01"),
            "account_id": None,
        }
    )
    # one in the current period, for the weekly scorecard (week ending 2026-11-20)
    rows.append(
        {
            "opportunity_id": "op-h01",
            "lead_id": "h01",
            "product_group": "Analytics",
            "created_at": ts("2026-11-18"),
            "account_id": None,
        }
    )
    return pl.DataFrame(
        rows,
        schema={
            "opportunity_id": pl.String,
            "lead_id": pl.String,
            "product_group": pl.String,
            "created_at": UTC_DT,
            "account_id": pl.String,
        },
    )


HISTORY_SCHEMA = {
    "lead_id": pl.String,
    "product_group": pl.String,
    "stage": pl.String,
    "changed_at": UTC_DT,
    "changed_by": pl.String,
    "reason": pl.String,
}


def history() -> pl.DataFrame:
    rows: list[tuple[Any, ...]] = []
    for i in range(1, 11):
        rows.append((f"h{i:02d}", "Analytics", "Inquiry", ts("2026-10-25"), None, None))
    for i in range(1, 7):
        rows.append((f"h{i:02d}", "Analytics", "MQL", ts("2026-10-28"), None, None))
    for i in range(1, 4):
        rows.append((f"h{i:02d}", "Analytics", "SAL", ts("2026-11-04"), "r1", None))
    rows.append(("h04", "Analytics", "Recycled", ts("2026-11-05"), "r1", "Timing"))
    rows.append(("h05", "Analytics", "Recycled", ts("2026-11-05"), "r1", " no  budget "))
    rows.append(("h06", "Analytics", "Disqualified", ts("2026-11-05"), "r2", None))
    rows.append(("h01", "Analytics", "SQL", ts("2026-11-10"), "r1", None))
    for i in range(1, 5):
        rows.append((f"p{i}", "Analytics", "Inquiry", ts("2026-10-01"), None, None))
    for i in range(1, 3):
        rows.append((f"p{i}", "Analytics", "MQL", ts("2026-10-05"), None, None))
    # a history row without product group applies to every group (Cloud too)
    rows.append(("g1", None, "Inquiry", ts("2026-11-01"), None, None))
    # long before both periods: dropped when the report narrows the history, counted nowhere
    rows.append(("old1", "Analytics", "Inquiry", ts("2025-01-01"), None, None))
    rows.append(("old1", "Analytics", "MQL", ts("2025-02-01"), None, None))
    # after as-of: ignored
    rows.append(("h07", "Analytics", "MQL", ts("2026-11-21"), None, None))
    return _frame(rows, HISTORY_SCHEMA)


def leads() -> pl.DataFrame:
    ids = sorted(
        {
            *snapshot()["lead_id"].to_list(),
            *history()["lead_id"].to_list(),
            "s1",
            "s2",
            "s3",
            "s4",
            "s5",
        }
    )
    rows = []
    for lead in ids:
        owner = (
            "r1"
            if lead in ("h01", "h02", "h03", "s1", "s2")
            else "r2"
            if lead in ("s3", "s4")
            else None
        )
        stage = {
            "h01": "SQL",
            "h02": "SAL",
            "h03": "SAL",
            "s1": "MQL",
            "s2": "MQL",
            "s3": "MQL",
            "s4": "MQL",
        }.get(lead)
        rows.append(
            {
                "lead_id": lead,
                "created_at": ts("2026-01-10") if not lead.startswith("h") else ts("2026-10-25"),
                "owner_id": owner,
                "stage": stage,
                "lead_source": "Webinar"
                if lead in ("h04", "h06")
                else "Web"
                if lead.startswith("h")
                else "List",
                "industry": "Software",
                "country": "DE",
                "employees": 100,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "lead_id": pl.String,
            "created_at": UTC_DT,
            "owner_id": pl.String,
            "stage": pl.String,
            "lead_source": pl.String,
            "industry": pl.String,
            "country": pl.String,
            "employees": pl.Int64,
        },
    )


def reps() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "rep_id": ["r1", "r2", "r3"],
            "team": ["East", "East", "West"],
            "capacity": [10, 5, 8],
            "active": [True, True, False],
        },
        schema={"rep_id": pl.String, "team": pl.String, "capacity": pl.Int64, "active": pl.Boolean},
    )


def touches() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "lead_id": ["s1", "s2", "s3", "s1"],
            "rep_id": ["r1", "r1", "r2", "r1"],
            "channel": ["call", "call", "email", "email"],
            "occurred_at": [
                ts("2026-11-04", 10),
                ts("2026-11-06", 9),
                ts("2026-11-04", 2),
                ts("2026-11-03", 9),
            ],
        },
        schema={
            "lead_id": pl.String,
            "rep_id": pl.String,
            "channel": pl.String,
            "occurred_at": UTC_DT,
        },
    )


def assignment_log() -> pl.DataFrame:
    assigned, due = ts("2026-11-04", 0), ts("2026-11-05", 0)
    rows = [
        ("s1", "Analytics", "r1", "East", "fast_track", "fast_track", assigned, due),
        ("s2", "Analytics", "r1", "East", "fast_track", "fast_track", assigned, due),
        ("s3", "Analytics", "r2", "East", "fast_track", "fast_track", assigned, due),
        ("s4", "Analytics", "r2", "East", "fast_track", "fast_track", assigned, due),
        ("s5", "Analytics", "r2", "East", "standard", "standard", assigned, ts("2026-11-25", 0)),
    ]
    return _frame(
        rows,
        {
            "lead_id": pl.String,
            "product_group": pl.String,
            "owner_id": pl.String,
            "team": pl.String,
            "sla_tier": pl.String,
            "action": pl.String,
            "assigned_at": UTC_DT,
            "sla_due_at": UTC_DT,
        },
    )


def ratings_tonight() -> pl.DataFrame:
    """Tonight's ratings: Analytics 3 A1 MQLs, 1 override MQL (Event VIP), 2 D4; Cloud 1 B1 MQL."""
    rows = [
        ("s1", "Analytics", "A1", "A", "1", 90.0, 0.5, True, True, None),
        ("s2", "Analytics", "A1", "A", "1", 89.0, 0.3, True, False, None),
        ("s3", "Analytics", "A1", "A", "1", 88.0, 0.2, True, True, None),
        ("s4", "Analytics", "C4", "C", "4", 20.0, 0.1, True, True, "Event VIP"),
        ("d01", "Analytics", "D4", "D", "4", 5.0, 0.02, False, False, None),
        ("d02", "Analytics", "D4", "D", "4", 4.0, 0.02, False, False, None),
        ("s1", "Cloud", "B1", "B", "1", 70.0, 0.25, True, True, None),
    ]
    return _frame(
        rows,
        {
            "lead_id": pl.String,
            "product_group": pl.String,
            "rating": pl.String,
            "fit_grade": pl.String,
            "engagement_grade": pl.String,
            "score": pl.Float64,
            "propensity": pl.Float64,
            "is_mql": pl.Boolean,
            "is_new_mql": pl.Boolean,
            "override_rule": pl.String,
        },
    )


def assignments_tonight() -> pl.DataFrame:
    """As assign writes it (CSV text): s1 and s3 to r1 tonight."""
    return pl.DataFrame(
        {
            "lead_id": ["s1", "s3"],
            "product_group": ["Analytics", "Analytics"],
            "owner_id": ["r1", "r1"],
            "team": ["East", "East"],
            "rating": ["A1", "A1"],
            "action": ["fast_track", "fast_track"],
            "stage_to_set": ["MQL", "MQL"],
            "sla_tier": ["fast_track", "fast_track"],
            "sla_due_at": ["2026-11-21T16:00:00Z", "2026-11-21T16:00:00Z"],
            "routing_rule": ["territory", "territory"],
            "reason": ["round robin", "round robin"],
        }
    )


def csv_outputs() -> dict[str, pl.DataFrame]:
    """The CSV stage outputs of the night, as text (the way the report reads them back)."""
    return {
        "assignments.csv": assignments_tonight(),
        "overflow.csv": pl.DataFrame(
            {"lead_id": ["z9"], "product_group": ["Analytics"], "reason": ["all reps at capacity"]}
        ),
        "stage_updates.csv": pl.DataFrame(
            {
                "lead_id": ["e1", "e2"],
                "product_group": ["Analytics", "Analytics"],
                "new_stage": ["Recycled", "Recycled"],
                "reason": ["Expired - no activity"] * 2,
                "previous_stage": ["SAL", "SQL"],
                "rule": ["no_touch", "no_touch"],
            }
        ),
        "zombies.csv": pl.DataFrame(
            {
                "lead_id": ["h02"],
                "product_group": ["Analytics"],
                "owner_id": ["r1"],
                "team": ["East"],
                "stage": ["SAL"],
                "days_in_stage": ["75"],
            }
        ),
        "persistence_breaches.csv": pl.DataFrame(
            {
                "lead_id": ["h06"],
                "product_group": ["Analytics"],
                "rep_id": ["r2"],
                "team": ["East"],
                "closed_at": ["2026-11-05T12:00:00Z"],
                "attempts": ["0"],
                "min_attempts": ["6"],
                "issue": ["too_few_attempts"],
            }
        ),
        "illegal_transitions.csv": pl.DataFrame(
            {
                "lead_id": ["h01", "h02", "h03"],
                "product_group": ["Analytics"] * 3,
                "from_stage": ["Inquiry", "Inquiry", "Won"],
                "to_stage": ["Won", "Won", "MQL"],
                "changed_at": ["2026-11-01T10:00:00Z"] * 3,
                "issue": ["not allowed"] * 3,
            }
        ),
        "sla_breaches.csv": pl.DataFrame(
            {
                "lead_id": ["s2", "s4"],
                "product_group": ["Analytics"] * 2,
                "status": ["late", "untouched"],
            }
        ),
    }


def card() -> dict[str, Any]:
    """A model card shaped like train's: held-out metrics and score distribution."""
    calibration = [
        {"predicted": 0.05, "observed": 0.04, "rows": 300},
        {"predicted": 0.30, "observed": 0.35, "rows": 100},
    ]
    return {
        "trained_as_of": "2026-06-01",
        "baseline_points": {"auc": 0.6},
        "models": {
            "fit": {"metrics": {"auc": 0.7}},
            "propensity": {"metrics": {"auc": 0.81, "calibration": calibration}},
        },
        "distribution": {
            "scores": {
                "propensity": {
                    "kind": "numeric",
                    "edges": [0.1, 0.3],
                    "shares": [0.5, 0.3, 0.2],
                    "missing": 0.0,
                }
            }
        },
    }


def context(**report: Any) -> ReportContext:
    rules = pl.DataFrame(
        {
            "rule": ["Event VIP", "Old promo"],
            "owner": ["ops@example.test", "cmo"],
            "review_by": [date(2026, 11, 25), date(2026, 10, 1)],
        },
        schema={"rule": pl.String, "owner": pl.String, "review_by": pl.Date},
    )
    return ReportContext(
        as_of=AS_OF,
        product_groups=GROUPS,
        report=ReportConfig(**report),
        lifecycle=LifecycleConfig(),
        override_rules=rules,
    )


def inputs() -> ReportInputs:
    """Everything in memory, as the command would hand it over."""
    return ReportInputs(
        tables={
            "stage_history": history().lazy(),
            "opportunities": opportunities().lazy(),
            "leads": leads().lazy(),
            "reps": reps().lazy(),
            "sales_touches": touches().lazy(),
        },
        outputs={
            "ratings.parquet": ratings_tonight().lazy(),
            **{name: frame.lazy() for name, frame in csv_outputs().items()},
        },
        rate_snapshots={SNAPSHOT: snapshot().lazy(), AS_OF: ratings_tonight().lazy()},
        assignment_logs={date(2026, 11, 3): assignment_log().lazy()},
        cards={"Analytics": card()},
    )


def write_night(root: Path, *, outputs: bool = True, state: bool = True) -> Path:
    """Write the case as exports + config + one night's stage outputs; return the config path.

    `outputs=False` leaves out every stage output (a pipeline that only ran validate);
    `state=False` leaves out the state snapshots and the model card.
    """
    exports = root / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    tables = {
        "leads": leads(),
        "opportunities": opportunities(),
        "reps": reps(),
        "stage_history": history(),
        "sales_touches": touches(),
    }
    for name, frame in tables.items():
        frame.write_parquet(exports / f"{name}.parquet")
    config = root / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "product_groups": GROUPS,
                "inputs": {
                    "dir": "exports",
                    "tables": {name: {"path": f"{name}.parquet"} for name in tables},
                },
                "output": {"dir": "out"},
                "rate": {
                    "overrides": [
                        {
                            "name": "Event VIP",
                            "owner": "ops@example.test",
                            "review_by": "2026-11-25",
                            "conditions": [
                                {"kind": "field", "field": "lead_source", "equals": "Event"}
                            ],
                        },
                        {
                            "name": "Old promo",
                            "owner": "cmo",
                            "review_by": "2026-10-01",
                            "conditions": [
                                {"kind": "field", "field": "lead_source", "equals": "Promo"}
                            ],
                        },
                    ]
                },
            },
            sort_keys=False,
        )
    )
    run_dir = root / "out" / AS_OF.isoformat()
    run_dir.mkdir(parents=True, exist_ok=True)
    if outputs:
        ratings_tonight().write_parquet(run_dir / "ratings.parquet")
        for name, frame in csv_outputs().items():
            frame.write_csv(run_dir / name)
    if state:
        (root / "out" / "state" / "rate").mkdir(parents=True, exist_ok=True)
        snapshot().write_parquet(root / "out" / "state" / "rate" / f"{SNAPSHOT}.parquet")
        ratings_tonight().write_parquet(root / "out" / "state" / "rate" / f"{AS_OF}.parquet")
        (root / "out" / "state" / "assignments_log").mkdir(parents=True, exist_ok=True)
        assignment_log().write_parquet(
            root / "out" / "state" / "assignments_log" / "2026-11-03.parquet"
        )
        (root / "out" / "models" / "Analytics").mkdir(parents=True, exist_ok=True)
        (root / "out" / "models" / "Analytics" / "card.json").write_text(json.dumps(card()))
    return config
