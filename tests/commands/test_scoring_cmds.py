"""CLI behaviour of train, score and explain: exit codes, files, values, and a flat export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from conftest import write_config
from typer.testing import CliRunner

import leadctl.cli  # noqa: F401  (registers every command)
from leadctl.cli_common import app
from leadctl.stages.score import SCORE_COLUMNS

runner = CliRunner()
AS_OF = ["--as-of", "2026-11-20"]
pytestmark = pytest.mark.slow


def _json(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def trained(
    sample_exports: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, dict]:
    """`leadctl train` once on the session sample: (config, out dir, summary)."""
    root = tmp_path_factory.mktemp("cli")
    config = write_config(root / "config.yaml", sample_exports, root / "out")
    summary = _json(runner.invoke(app, ["train", "-c", str(config), *AS_OF, "--json"]))
    return config, root / "out", summary


def test_help_texts():
    for command, words in (
        ("train", "point-in-time"),
        ("score", "scores.parquet"),
        ("explain", "contribution"),
    ):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and words in result.output, command


def test_train_writes_models_cards_and_a_summary(trained):
    config, out, summary = trained
    assert set(summary["groups"]) == {"Analytics", "Cloud"}
    for group, g in summary["groups"].items():
        folder = out / "models" / group
        for name in (
            "fit.txt",
            "engagement.txt",
            "propensity.txt",
            "card.json",
            "calibration.json",
        ):
            assert (folder / name).is_file(), (group, name)
        assert (folder / "propensity.txt").read_text().startswith("tree")
        card = json.loads((folder / "card.json").read_text())
        assert card["trained_as_of"] == "2026-11-20" and len(card["config_hash"]) == 16
        assert set(card["input_hashes"]) == {
            "leads",
            "accounts",
            "activities",
            "opportunities",
            "stage_history",
        }
        assert g["status"] == "trained" and g["model_kind"] == "lightgbm"
        assert g["metrics"]["propensity"]["auc"] > g["points_auc"]
    assert summary["rows_in"]["leads"] == 3000 and summary["rows_out"] > 20_000
    assert not list(out.rglob("*.pkl")) and not list(out.rglob("*.pickle"))
    # Nothing changed: the second run skips the groups; --force retrains them identically.
    again = _json(runner.invoke(app, ["train", "-c", str(config), *AS_OF, "--json"]))
    assert {g["status"] for g in again["groups"].values()} == {"unchanged"}
    before = (out / "models" / "Cloud" / "propensity.txt").read_bytes()
    forced = _json(runner.invoke(app, ["train", "-c", str(config), *AS_OF, "--force", "--json"]))
    assert forced["groups"]["Cloud"]["status"] == "trained"
    assert (out / "models" / "Cloud" / "propensity.txt").read_bytes() == before


def test_train_prints_a_readable_summary(trained):
    config, _, _ = trained
    result = runner.invoke(app, ["train", "-c", str(config), *AS_OF], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Models trained as of 2026-11-20" in result.output and "unchanged" in result.output


def test_score_writes_scores_parquet(trained):
    config, out, _ = trained
    summary = _json(runner.invoke(app, ["score", "-c", str(config), *AS_OF, "--json"]))
    path = out / "2026-11-20" / "scores.parquet"
    assert summary["output"] == str(path) and summary["rows_out"] == 6000
    scores = pl.read_parquet(path)
    assert scores.columns == SCORE_COLUMNS and scores.height == 6000
    assert scores["model_kind"].unique().to_list() == ["lightgbm"]
    first = path.read_bytes()
    text = runner.invoke(app, ["score", "-c", str(config), *AS_OF], env={"COLUMNS": "200"})
    assert text.exit_code == 0 and "Scores as of 2026-11-20" in text.output
    assert path.read_bytes() == first  # same inputs, same bytes


def test_explain_prints_drivers_and_reasons(trained):
    config, out, _ = trained
    leads = pl.read_parquet(out / "2026-11-20" / "canonical" / "leads.parquet")
    lead_id = leads["lead_id"][0]
    result = runner.invoke(
        app,
        ["explain", lead_id, "-c", str(config), *AS_OF, "--group", "Cloud"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert f"{lead_id} · Cloud" in result.output and "Drivers" in result.output
    data = _json(
        runner.invoke(app, ["explain", lead_id, "-c", str(config), *AS_OF, "--json", "--top", "4"])
    )
    assert (
        set(data["groups"]) == {"Analytics", "Cloud"}
        and len(data["groups"]["Cloud"]["contributions"]) == 4
    )
    missing = runner.invoke(app, ["explain", "00Qnope", "-c", str(config), *AS_OF])
    assert missing.exit_code == 3 and "lead 00Qnope is not in the leads table" in missing.output
    bad_group = runner.invoke(
        app, ["explain", lead_id, "-c", str(config), *AS_OF, "--group", "Nope"]
    )
    assert bad_group.exit_code == 2 and "is not a product group" in bad_group.output


def test_score_refuses_a_model_that_does_not_match(trained, tmp_path):
    config, out, _ = trained
    import yaml

    data = yaml.safe_load(config.read_text())
    data["train"]["features"]["custom"] = [
        c for c in data["train"]["features"]["custom"] if c["column"] != "budget"
    ]
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(data))
    result = runner.invoke(app, ["score", "-c", str(changed), *AS_OF])
    assert result.exit_code == 6, result.output
    assert (
        "does not match the data" in result.output and "no longer provide: budget" in result.output
    )
    assert "Retrain with `leadctl train`" in result.output


def test_refused_group_is_scored_with_points(sample_exports, tmp_path):
    config = write_config(
        tmp_path / "config.yaml",
        sample_exports,
        tmp_path / "out",
        train={"guards": {"min_labelled_leads": 1000, "min_positives": 10_000}},
    )
    summary = _json(runner.invoke(app, ["train", "-c", str(config), *AS_OF, "--json"]))
    for g in summary["groups"].values():
        assert g["status"] == "refused" and g["model_kind"] == "points"
    assert any("points model from the config will be used" in w for w in summary["warnings"])
    assert sorted(p.name for p in (tmp_path / "out" / "models" / "Cloud").iterdir()) == [
        "card.json"
    ]
    scored = _json(runner.invoke(app, ["score", "-c", str(config), *AS_OF, "--json"]))
    assert {g["model_kind"] for g in scored["groups"].values()} == {"points"}
    assert any("scored with the points model" in w for w in scored["warnings"])
    text = runner.invoke(
        app, ["train", "-c", str(config), *AS_OF, "--force"], env={"COLUMNS": "200"}
    )
    assert text.exit_code == 0 and "refused" in text.output and "points model" in text.output


# --- a single flat export: one file, custom columns, an outcome column, no activity log ---


def _flat_export(path: Path, n: int = 3000, seed: int = 5) -> None:
    rng = np.random.default_rng(seed)
    titles = np.array(["CEO", "VP Sales", "Director of IT", "IT Manager", "Analyst", "Student"])
    t = rng.integers(0, len(titles), n)
    occupation = np.array(["Professional", "Consultant", "Retired", "Student"])[
        rng.integers(0, 4, n)
    ]
    budget = np.round(np.exp(rng.normal(9, 1.2, n)), -2)
    logit = (
        -2.2
        + np.array([1.2, 1.0, 0.8, 0.2, -0.4, -2.0])[t]
        + 0.5 * (occupation == "Professional")
        + 0.6 * (np.log(budget) - 9)
    )
    converted = rng.random(n) < 1 / (1 + np.exp(-logit))
    frame = pl.DataFrame(
        {
            "Lead ID": [f"F{i:05d}" for i in range(n)],
            "E-mail": [f"p{i}@firm{i % 97}.com" for i in range(n)],
            "Job Title": titles[t],
            "What is your current occupation": occupation,
            "Budget (USD)": [f"${b:,.0f}" for b in budget],
            "Signup": ["2026-03-01"] * n,
            "Converted": np.where(converted, "Yes", "No"),
            # Filled in by sales once a deal closes: a leak the guard must catch.
            "Deal Amount": pl.Series(np.where(converted, budget * 3, np.nan)).fill_nan(None),
        }
    )
    frame.write_csv(path)


def test_flat_export_trains_and_scores_through_config_alone(tmp_path):
    _flat_export(tmp_path / "flat.csv")
    config = {
        "product_groups": [],
        "inputs": {
            "dir": str(tmp_path),
            "tables": {
                "leads": {
                    "path": "flat.csv",
                    "columns": {
                        "lead_id": "Lead ID",
                        "email": "E-mail",
                        "title": "Job Title",
                        "created_at": "Signup",
                    },
                    "extra_columns": {
                        "occupation": "What is your current occupation",
                        "budget": "Budget (USD)",
                        "converted": "Converted",
                        "deal_amount": {"source": "Deal Amount", "type": "float"},
                    },
                }
            },
        },
        "output": {"dir": str(tmp_path / "out")},
        "train": {
            "label": {"source": "outcome_column", "outcome_column": "converted"},
            "features": {
                "custom": [
                    {"column": "occupation", "kind": "categorical", "label": "Occupation"},
                    {"column": "budget", "kind": "numeric", "label": "Budget"},
                    {"column": "deal_amount", "kind": "numeric"},
                ]
            },
        },
        "points": {
            "default": {
                "demographic": [
                    {
                        "feature": "seniority",
                        "weight": 50,
                        "choices": {"C-level": 10, "VP": 8, "Student": -10},
                    }
                ],
                "behavioural": [
                    {
                        "name": "Any activity",
                        "activity_types": ["Visit Webpage"],
                        "weight": 50,
                        "window_days": 30,
                        "at_least": {1: 10},
                    }
                ],
            }
        },
    }
    import yaml

    path = tmp_path / "flat.yaml"
    path.write_text(yaml.safe_dump(config))
    summary = _json(runner.invoke(app, ["train", "-c", str(path), *AS_OF, "--json"]))
    group = summary["groups"]["all"]
    assert group["status"] == "trained" and group["split"] == "stratified"
    assert any("stratified split" in w for w in group["warnings"])
    assert group["excluded"] == ["deal_amount"]
    assert group["metrics"]["propensity"]["auc"] >= 0.7
    assert "budget" in group["top_features"][:3]
    card = json.loads((tmp_path / "out" / "models" / "all" / "card.json").read_text())
    assert card["split"]["kind"] == "stratified" and "no usable dates" in card["split"]["note"]
    assert card["label"]["definition"].startswith("leads column 'converted' is true")
    scored = _json(runner.invoke(app, ["score", "-c", str(path), *AS_OF, "--json"]))
    scores = pl.read_parquet(scored["output"])
    assert scores.height == 3000 and scores["product_group"].unique().to_list() == ["all"]
    assert scores["model_kind"].unique().to_list() == ["lightgbm"]
    with_reasons = scores.filter(pl.col("reasons_for").list.len() > 0)
    assert with_reasons.height > 0
    assert any(
        r.startswith(("Budget: ", "Title: ", "Occupation: "))
        for rs in with_reasons["reasons_for"]
        for r in rs
    )


def test_renderers_print_data_with_brackets_literally(capsys):
    """Group names, titles and reasons come from CRM data; '[...]' must not be read as markup."""
    from leadctl.commands.explain_cmd import render_explain
    from leadctl.commands.train_cmd import render_train

    render_explain(
        {
            "lead_id": "L[1]",
            "groups": {
                "[bold]G": {
                    "score": 90.0,
                    "fit_score": 80.0,
                    "engagement_score": 70.0,
                    "propensity": 0.2,
                    "model_kind": "points",
                    "model_version": "points-x",
                    "contribution_unit": "points",
                    "contributions": [
                        {
                            "feature": "seniority",
                            "label": "Seniority",
                            "value": "[red]VP",
                            "contribution": 1.0,
                        }
                    ],
                    "reasons_for": ["Title: Director [EMEA]"],
                    "reasons_against": ["[/] odd"],
                }
            },
        }
    )
    render_train(
        {
            "as_of": "2026-11-20",
            "models_dir": "m",
            "warnings": ["feature [x] excluded"],
            "groups": {"[G]": {"status": "refused", "reason": "only [3] leads", "label": "l [1]"}},
        }
    )
    out = capsys.readouterr().out
    for text in (
        "L[1]",
        "[bold]G",
        "[red]VP",
        "Title: Director [EMEA]",
        "[/] odd",
        "feature [x] excluded",
        "only [3] leads",
        "l [1]",
    ):
        assert text in out, text
