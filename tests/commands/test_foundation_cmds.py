"""CLI behaviour of validate, init, config check: exit codes, messages, files."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

import leadctl.cli  # noqa: F401  (registers every command)
from leadctl.cli_common import app

runner = CliRunner()

SALESFORCE_HEADER = (
    "Id,FirstName,LastName,Email,Phone,Title,Company,Industry,NumberOfEmployees,AnnualRevenue,"
    "Country,State,LeadSource,CreatedDate,Status,OwnerId,HasOptedOutOfEmail,DoNotCall,IsConverted,"
    "ConvertedDate,Favourite_Colour__c\n"
)


def _config(tmp_path: Path, leads_columns: dict[str, str], share: float = 0.5) -> Path:
    lines = [
        "inputs:",
        f"  max_reject_share: {share}",
        "  tables:",
        "    leads:",
        "      path: leads.csv",
        "      columns:",
        *[f"        {k}: {v}" for k, v in leads_columns.items()],
        "output:",
        "  dir: out",
    ]
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_every_command_has_help_text() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for name, command in [(c.name, c) for c in app.registered_commands]:
        assert command.callback is not None and command.callback.__doc__, name
        sub = runner.invoke(app, [name or command.callback.__name__, "--help"])
        assert sub.exit_code == 0, name


def test_validate_writes_rejects_and_reports_counts(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text(
        "Id,Created,Email\n1,2025-01-01,a@x.com\n2,garbage,b@x.com\n3,2025-01-03,=1+1\n"
    )
    config = _config(tmp_path, {"lead_id": "Id", "created_at": "Created", "email": "Email"})
    result = runner.invoke(app, ["validate", "-c", str(config), "--as-of", "2026-11-20", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    leads = summary["tables"]["leads"]
    assert (leads["rows_read"], leads["rows_valid"], leads["rows_rejected"]) == (3, 2, 1)
    rejects = pl.read_csv(
        tmp_path / "out" / "2026-11-20" / "rejects" / "leads.csv", infer_schema=False
    )
    assert rejects["Id"].to_list() == ["2"]
    assert rejects["_row"].to_list() == ["3"]
    canonical = pl.read_parquet(tmp_path / "out" / "2026-11-20" / "canonical" / "leads.parquet")
    assert canonical["email"].to_list() == [
        "a@x.com",
        "=1+1",
    ]  # data kept as is, escaped on CSV out


def test_validate_fails_with_exit_4_over_the_reject_threshold(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text("Id,Created\n1,2025-01-01\n2,garbage\n3,nope\n")
    config = _config(tmp_path, {"lead_id": "Id", "created_at": "Created"}, share=0.2)
    result = runner.invoke(app, ["validate", "-c", str(config), "--as-of", "2026-11-20"])
    assert result.exit_code == 4
    assert "leads: 2 of 3 rows rejected" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_validate_missing_required_column_exits_3_naming_column_and_header(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text("Id,Created_Date\n1,2025-01-01\n")
    config = _config(tmp_path, {"lead_id": "Id", "created_at": "CreatedDate"})
    result = runner.invoke(app, ["validate", "-c", str(config), "--as-of", "2026-11-20"])
    assert result.exit_code == 3
    err = " ".join(result.stderr.split())
    assert err.startswith("Error:")
    assert "required column 'created_at'" in err
    assert "closest header in the file is 'Created_Date'" in err
    assert "inputs.tables.leads.columns.created_at" in err


def test_config_errors_exit_2_and_bad_as_of_too(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("inputz: {}\n")
    result = runner.invoke(app, ["config", "check", "-c", str(bad)])
    assert result.exit_code == 2
    assert "did you mean 'inputs'" in result.stderr
    (tmp_path / "leads.csv").write_text("Id,Created\n1,2025-01-01\n")
    config = _config(tmp_path, {"lead_id": "Id", "created_at": "Created"})
    result = runner.invoke(app, ["validate", "-c", str(config), "--as-of", "20-11-2026"])
    assert result.exit_code == 2
    assert "--as-of must be a date" in result.stderr


def test_config_check_prints_effective_config_as_json() -> None:
    root = Path(__file__).resolve().parents[2]
    result = runner.invoke(
        app, ["config", "check", "-c", str(root / "configs" / "default.yaml"), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["effective"]["inputs"]["tables"]["leads"]["columns"]["lead_id"] == "Id"
    assert len(data["hash"]) == 16


def test_init_guesses_a_salesforce_lead_export(tmp_path: Path) -> None:
    export = tmp_path / "sf_leads.csv"
    export.write_text(SALESFORCE_HEADER)
    result = runner.invoke(app, ["init", "--from", str(export), "--table", "leads"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for line in [
        "    leads:",
        "      path: sf_leads.csv",
        "        lead_id: Id",
        "        email: Email",
        "        created_at: CreatedDate",
        "        employees: NumberOfEmployees",
        "        unsubscribed: HasOptedOutOfEmail",
        "        do_not_contact: DoNotCall",
        "        stage: Status",
        "        converted_at: ConvertedDate",
        "        # account_id: ???   # optional: not found in the header",
        "      #   Favourite_Colour__c",
    ]:
        assert line in out.splitlines(), line


def test_init_marks_unmapped_required_columns_and_hubspot_names(tmp_path: Path) -> None:
    export = tmp_path / "hubspot.csv"
    export.write_text("Record ID,Email,Job Title,Company Name,Country/Region\n")
    result = runner.invoke(app, ["init", "--from", str(export), "--table", "leads", "--json"])
    assert result.exit_code == 0, result.output
    guess = json.loads(result.stdout)
    assert guess["columns"]["lead_id"] == "Record ID"
    assert guess["columns"]["title"] == "Job Title"
    assert guess["columns"]["country"] == "Country/Region"
    assert guess["unmapped_required"] == ["created_at"]
    bad = runner.invoke(app, ["init", "--from", str(export), "--table", "contacts"])
    assert bad.exit_code == 2
