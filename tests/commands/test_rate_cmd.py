"""`leadctl rate` on the generated sample: files, summary values, state, idempotency, errors."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from conftest import SAMPLE_AS_OF, write_config
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import leadctl.cli  # noqa: F401  (registers every command)
from leadctl.cli_common import app
from leadctl.commands import rate_cmd
from leadctl.config import load_config
from leadctl.stages.rate import RATING_COLUMNS, SCORE_COLUMNS
from leadctl.workspace import Workspace

runner = CliRunner()
NEXT_DAY = date(2026, 11, 21)


@pytest.fixture(scope="module")
def canonical(sample_exports: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample ingested once; tests copy it instead of ingesting the exports again."""
    root = tmp_path_factory.mktemp("rate_canonical")
    ws = Workspace(
        load_config(write_config(root / "config.yaml", sample_exports, root / "out")), SAMPLE_AS_OF
    )
    ws.ingest()
    return ws.canonical_dir


def _config(canonical: Path, sample_exports: Path, tmp_path: Path, **overrides: Any) -> Path:
    config = write_config(tmp_path / "config.yaml", sample_exports, tmp_path / "out", **overrides)
    for day in (SAMPLE_AS_OF, NEXT_DAY):
        shutil.copytree(canonical, tmp_path / "out" / day.isoformat() / "canonical")
    return config


def _write_scores(config: Path, as_of: date = SAMPLE_AS_OF) -> pl.DataFrame:
    """A deterministic scores.parquet for every sample lead × group (the score stage's job)."""
    ws = Workspace(load_config(config), as_of)
    ids = ws.table("leads").select("lead_id").sort("lead_id").collect()["lead_id"]
    frames = []
    for salt, group in enumerate(["Analytics", "Cloud"]):
        h = ids.hash(seed=salt).cast(pl.Float64)
        frames.append(
            pl.DataFrame(
                {
                    "lead_id": ids,
                    "product_group": group,
                    "fit_score": (h % 10_007) / 100.07,
                    "engagement_score": ((h // 10_007) % 10_009) / 100.09,
                    "propensity": ((h // 100_000_000) % 1000) / 4000,
                    "score": (h % 101).cast(pl.Float64),
                    "model_kind": "points",
                    "model_version": "test",
                    "reasons_for": pl.Series([["title: VP"]] * len(ids)),
                    "reasons_against": pl.Series([[]] * len(ids), dtype=pl.List(pl.String)),
                },
                schema=SCORE_COLUMNS,
            )
        )
    scores = pl.concat(frames)
    ws.run_dir.mkdir(parents=True, exist_ok=True)
    scores.write_parquet(ws.output("scores.parquet"))
    return scores


def _rate(config: Path, *args: str, as_of: date = SAMPLE_AS_OF) -> Any:
    return runner.invoke(app, ["rate", "-c", str(config), "--as-of", as_of.isoformat(), *args])


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def sample_config(canonical: Path, sample_exports: Path, tmp_path: Path) -> Path:
    return _config(canonical, sample_exports, tmp_path)


@pytest.fixture()
def scored(sample_config: Path) -> tuple[Path, pl.DataFrame]:
    return sample_config, _write_scores(sample_config)


def test_rate_writes_ratings_nurture_and_state_that_match_the_summary(
    scored: tuple[Path, pl.DataFrame],
) -> None:
    config, scores = scored
    result = _rate(config, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    out = config.parent / "out"
    run_dir = out / "2026-11-20"

    ratings = pl.read_parquet(run_dir / "ratings.parquet")
    assert ratings.columns == RATING_COLUMNS
    assert ratings.height == scores.height == summary["rows"]
    assert ratings.select("lead_id", "product_group").equals(
        scores.select("lead_id", "product_group").sort("lead_id", "product_group")
    )
    nurture = pl.read_csv(run_dir / "nurture.csv", infer_schema=False)
    assert nurture.columns == ["lead_id", "product_group", "rating", "reason"]
    assert nurture.height == summary["nurture"] > 0
    assert (out / "state" / "rate" / "2026-11-20.parquet").is_file()
    assert summary["previous_state"] is None

    ov = pl.col("override_rule").is_not_null()
    for group, data in summary["groups"].items():
        rows = ratings.filter(pl.col("product_group") == group)
        assert sum(data["grid"].values()) == rows.height
        assert data["grid"]["A1"] == rows.filter(pl.col("rating") == "A1").height
        assert data["new_mqls"] == rows.filter(pl.col("is_new_mql") & ~ov).height > 0
        assert data["override_mqls"] == rows.filter(pl.col("is_mql") & ov).height
    assert summary["new_mqls"] + summary["new_override_mqls"] == ratings["is_new_mql"].sum()
    assert summary["new_override_mqls"] > 0, "the default rules match some sample leads"
    new = ratings.filter("is_new_mql")
    assert set(new["stage_to_set"]) == {"MQL", "MQL-Override"}
    assert new.filter(ov)["stage_to_set"].unique().to_list() == ["MQL-Override"]
    assert summary["expired_rules"] == [] and summary["warnings"] == []
    assert set(summary["cutoffs"]) == {"Analytics", "Cloud"}


def test_rerun_is_idempotent_and_the_next_night_reads_the_state(
    scored: tuple[Path, pl.DataFrame],
) -> None:
    config, _ = scored
    out = config.parent / "out"
    assert _rate(config, "--json").exit_code == 0
    first = {name: _sha(out / "2026-11-20" / name) for name in ("ratings.parquet", "nurture.csv")}
    assert _rate(config, "--json").exit_code == 0
    assert first == {name: _sha(out / "2026-11-20" / name) for name in first}

    shutil.copy(out / "2026-11-20" / "scores.parquet", out / "2026-11-21" / "scores.parquet")
    result = _rate(config, "--json", as_of=NEXT_DAY)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["previous_state"] == "2026-11-20"
    night1 = pl.read_parquet(out / "2026-11-20" / "ratings.parquet")
    night2 = pl.read_parquet(out / "2026-11-21" / "ratings.parquet")
    both = night1.join(night2, on=["lead_id", "product_group"], suffix="_2")
    # Same scores a night later: yesterday's new MQLs stay MQL (not new, same mql_since) ...
    stayed = both.filter("is_new_mql")
    assert stayed["is_mql_2"].all() and not stayed["is_new_mql_2"].any()
    assert (stayed["mql_since_2"] == date(2026, 11, 20)).all()
    # ... and tonight's new MQLs were not MQLs yesterday; there are far fewer of them.
    assert not both.filter("is_new_mql_2")["is_mql"].any()
    assert night2["is_new_mql"].sum() < night1["is_new_mql"].sum() / 10

    second = _sha(out / "2026-11-21" / "ratings.parquet")
    assert _rate(config, "--json", as_of=NEXT_DAY).exit_code == 0  # reads 11-20 again, not 11-21
    assert _sha(out / "2026-11-21" / "ratings.parquet") == second


def test_text_output_shows_a_rating_grid_per_group(scored: tuple[Path, pl.DataFrame]) -> None:
    config, _ = scored
    result = _rate(config)
    assert result.exit_code == 0, result.output
    for text in (
        "Analytics: ratings as of 2026-11-20",
        "Cloud: ratings as of 2026-11-20",
        "fit \\ engagement",
        "override MQLs",
        "cutoffs (share)",
    ):
        assert text in result.stdout


def test_an_expired_rule_is_skipped_and_reported_loudly(
    canonical: Path, sample_exports: Path, tmp_path: Path
) -> None:
    rule = {
        "name": "old-webinar-push",
        "owner": "Field marketing",
        "review_by": "2026-10-01",
        "conditions": [{"kind": "activity", "types": ["Attend Webinar"]}],
    }
    config = _config(canonical, sample_exports, tmp_path, rate={"overrides": [rule]})
    _write_scores(config)
    result = _rate(config)
    assert result.exit_code == 0, result.output
    assert "WARNING" in result.stdout and "NO LONGER APPLIES" in result.stdout
    assert "old-webinar-push" in result.stdout and "Field marketing" in result.stdout
    assert "passed its review date 2026-10-01" in result.stderr  # the log line, without the owner
    assert "Field marketing" not in result.stderr
    summary = json.loads(_rate(config, "--json").stdout)
    assert summary["expired_rules"] == [
        {
            "name": "old-webinar-push",
            "owner": "Field marketing",
            "review_by": "2026-10-01",
            "days_overdue": 50,
        }
    ]
    assert summary["warnings"] and summary["override_mqls"] == 0
    ratings = pl.read_parquet(tmp_path / "out" / "2026-11-20" / "ratings.parquet")
    assert ratings["override_rule"].null_count() == ratings.height


def test_suggest_prints_candidates_and_writes_nothing(scored: tuple[Path, pl.DataFrame]) -> None:
    config, _ = scored
    run_dir = config.parent / "out" / "2026-11-20"
    result = _rate(config, "--suggest", "--json")
    assert result.exit_code == 0, result.output
    assert not (run_dir / "ratings.parquet").exists()
    assert not (config.parent / "out" / "state" / "rate").exists()
    summary = json.loads(result.stdout)
    assert set(summary["groups"]) == {"Analytics", "Cloud"}
    cloud = summary["groups"]["Cloud"]
    assert cloud["capacity_per_day"] > 0
    rated = json.loads(_rate(config, "--json").stdout)["groups"]["Cloud"]
    assert cloud["current"]["new_override_mqls"] == rated["new_override_mqls"] > 0
    assert cloud["current"]["new_mqls"] == rated["new_mqls"] + rated["new_override_mqls"]
    assert [c["factor"] for c in cloud["candidates"] if not c["searched"]] == [
        0.25,
        0.5,
        0.75,
        1.0,
        1.25,
        1.5,
        2.0,
    ]
    assert any(c["factor"] == cloud["recommended_factor"] for c in cloud["candidates"])
    assert {r["product_group"] for r in summary["capacity"]} == {"Analytics", "Cloud"}
    text = _rate(config, "--suggest")
    assert (
        text.exit_code == 0
        and "Nothing was changed" in text.stdout
        and "new MQLs/day" in text.stdout
        and "sent by override rules" in text.stdout
    )


def test_missing_or_broken_scores_exit_3_with_what_to_do(sample_config: Path) -> None:
    result = _rate(sample_config)
    assert result.exit_code == 3
    assert (
        "scores.parquet does not exist: run `leadctl score --as-of 2026-11-20` first"
        in result.stderr
    )

    scores = _write_scores(sample_config)
    path = sample_config.parent / "out" / "2026-11-20" / "scores.parquet"
    scores.drop("propensity").write_parquet(path)
    result = _rate(sample_config)
    assert result.exit_code == 3 and "lacks column(s) ['propensity']" in result.stderr

    pl.concat([scores, scores.head(2)]).write_parquet(path)
    result = _rate(sample_config)
    assert (
        result.exit_code == 3
        and "2 (lead_id, product_group) pair(s) more than once" in result.stderr
    )
    # A sorted file with a repeated pair: the neighbour check must not take it for unique.
    pl.concat([scores, scores.head(1)]).sort("lead_id", "product_group").write_parquet(path)
    result = _rate(sample_config)
    assert (
        result.exit_code == 3
        and "1 (lead_id, product_group) pair(s) more than once" in result.stderr
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["L1", "L10", "L2", "l1", ""]), st.sampled_from(["A", "B", "a"])),
        max_size=8,
    ),
    st.booleans(),
)
def test_neighbour_check_means_sorted_and_unique(pairs: list[tuple[str, str]], sort: bool) -> None:
    keys = pl.DataFrame(pairs, schema=["lead_id", "product_group"], orient="row")
    if sort:
        keys = keys.sort("lead_id", "product_group")
    expected = keys.height == keys.unique().height and keys.equals(
        keys.sort("lead_id", "product_group")
    )
    assert rate_cmd._strictly_increasing(keys) == expected


def test_unreadable_state_exits_3(scored: tuple[Path, pl.DataFrame]) -> None:
    config, _ = scored
    state = config.parent / "out" / "state" / "rate"
    state.mkdir(parents=True)
    (state / "2026-11-19.parquet").write_text("not parquet")
    (state / "notes.parquet").write_text("ignored: not a date")
    result = _rate(config)
    assert result.exit_code == 3
    assert "2026-11-19.parquet cannot be read" in result.stderr and "move it away" in result.stderr


def test_an_override_on_an_unknown_field_is_a_config_error(
    canonical: Path, sample_exports: Path, tmp_path: Path
) -> None:
    rule = {
        "name": "typo",
        "owner": "ops",
        "review_by": "2027-01-01",
        "conditions": [{"kind": "field", "field": "titel", "equals": "CEO"}],
    }
    config = _config(canonical, sample_exports, tmp_path, rate={"overrides": [rule]})
    _write_scores(config)
    result = _rate(config)
    assert result.exit_code == 2
    assert "field 'titel' is not a column" in result.stderr


def _sorted_scores(config: Path, as_of: date, shift: float = 0.0) -> None:
    """`_write_scores` sorted by (lead_id, product_group), as score writes them (only sorted
    scores are rated in lead ranges); `shift` lowers every fourth lead's engagement."""
    scores = _write_scores(config, as_of).sort("lead_id", "product_group")
    if shift:
        low = pl.col("lead_id").hash(seed=3) % 4 == 0
        scores = scores.with_columns(
            pl.when(low)
            .then(pl.col("engagement_score") - shift)
            .otherwise(pl.col("engagement_score"))
            .alias("engagement_score")
        )
    scores.write_parquet(Workspace(load_config(config), as_of).output("scores.parquet"))


def test_rating_in_lead_ranges_gives_the_one_pass_outputs(
    canonical: Path, sample_exports: Path, tmp_path: Path
) -> None:
    """score.partition_leads below the sample's 3,000 leads: rate works in 5 lead ranges (share
    cutoffs from all scores) and writes the one-pass rows, two nights running (the second
    reads the first one's state: hysteresis, minimum stay)."""
    (tmp_path / "one").mkdir()
    (tmp_path / "ranged").mkdir()
    one = _config(canonical, sample_exports, tmp_path / "one")
    ranged = _config(canonical, sample_exports, tmp_path / "ranged", score={"partition_leads": 700})
    outputs: dict[Path, list[Any]] = {}
    # A killed ranged rate's parts (no such process: above Linux's largest pid) are removed.
    left = ranged.parent / "out" / "2026-11-20" / f".ratings.parquet.{2**22 + 1}.parts"
    left.mkdir(parents=True)
    (left / "ratings-00000.parquet").write_bytes(b"x")
    for config in (one, ranged):
        results = []
        for day, shift in ((SAMPLE_AS_OF, 0.0), (NEXT_DAY, 15.0)):
            _sorted_scores(config, day, shift)
            result = _rate(config, "--json", as_of=day)
            assert result.exit_code == 0, result.output
            assert ("rating in 5 lead ranges" in result.stderr) == (config == ranged)
            run_dir = config.parent / "out" / day.isoformat()
            state = config.parent / "out" / "state" / "rate" / f"{day.isoformat()}.parquet"
            results.append(
                (
                    json.loads(result.stdout),
                    pl.read_parquet(run_dir / "ratings.parquet"),
                    (run_dir / "nurture.csv").read_bytes(),
                    pl.read_parquet(state),
                )
            )
            assert not list(run_dir.glob(".ratings.parquet.*")), "parts are removed"
        outputs[config] = results
    assert not left.exists()
    for (summary, ratings, nurture, state), (r_summary, r_ratings, r_nurture, r_state) in zip(
        outputs[one], outputs[ranged], strict=True
    ):
        assert r_summary == summary
        assert r_ratings.equals(ratings) and r_ratings.schema == ratings.schema
        assert r_nurture == nurture
        assert r_state.equals(state) and r_state.schema == state.schema
    night2 = outputs[one][1]
    assert night2[0]["previous_state"] == "2026-11-20"
    # The second night keeps MQLs through hysteresis and drops some: the state mattered.
    night1_mql = outputs[one][0][1].filter("is_mql")["lead_id"]
    kept = night2[1].filter(pl.col("lead_id").is_in(night1_mql.implode()))
    assert kept["is_mql"].any() and not kept["is_mql"].all()


def test_lead_ranges_are_contiguous_and_cover_every_lead() -> None:
    from leadctl.stages.rate_partition import lead_ranges

    ids = [f"L{i:04d}" for i in range(10)]
    keys = pl.DataFrame(
        {"lead_id": [i for i in ids for _ in range(3)], "product_group": ["A", "B", "C"] * 10}
    )
    assert lead_ranges(keys, 10) is None and lead_ranges(keys, 30) is None
    ranges = lead_ranges(keys, 4)
    assert ranges == [("L0000", "L0002"), ("L0003", "L0005"), ("L0006", "L0009")]
    assert lead_ranges(keys, 1) == [(i, i) for i in ids]


def test_range_thresholds_come_from_all_scores(scored: tuple[Path, pl.DataFrame]) -> None:
    """The teeth of the ranged test: grading one range on its own scores moves the cutoffs."""
    from leadctl.stages.rate_grade import group_thresholds
    from leadctl.stages.rate_partition import all_thresholds, range_inputs

    config, scores = scored
    ws = Workspace(load_config(config), SAMPLE_AS_OF)
    inputs, _, _, _ = rate_cmd._inputs(ws, with_current=False)
    ids = scores["lead_id"].unique().sort()
    part = range_inputs(inputs, (ids[0], ids[len(ids) // 3]))
    alone = group_thresholds(part.scores, ws.cfg.rate)
    whole = all_thresholds(inputs.scores, ws.cfg.rate)
    assert not alone.equals(whole)
