"""Tests for the synthetic export generator: determinism, shape, referential sanity, the
deliberate dirt, and that the hidden conversion signal is actually in the data."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from leadctl.errors import ConfigError
from leadctl.sample import generate_sample, shard_sizes

EXPORT = date(2026, 11, 20)
N = 400
SF = "%Y-%m-%dT%H:%M:%S.000+0000"
COLUMNS = {
    "leads": [
        "Id",
        "FirstName",
        "LastName",
        "Email",
        "Phone",
        "Title",
        "Company",
        "Industry",
        "NumberOfEmployees",
        "AnnualRevenue",
        "Country",
        "State",
        "LeadSource",
        "CreatedDate",
        "Lifecycle_Stage__c",
        "OwnerId",
        "HasOptedOutOfEmail",
        "DoNotCall",
        "GDPR_Consent__c",
        "Account__c",
        "IsConverted",
        "ConvertedDate",
        "Current_Occupation__c",
        "Budget__c",
        "Purchase_Timeframe__c",
    ],
    "accounts": [
        "Id",
        "Name",
        "Website",
        "Industry",
        "NumberOfEmployees",
        "AnnualRevenue",
        "BillingCountry",
        "OwnerId",
        "Named_Account__c",
        "Target_Account__c",
    ],
    "opportunities": [
        "Id",
        "AccountId",
        "Primary_Lead__c",
        "Product_Group__c",
        "CreatedDate",
        "CloseDate",
        "StageName",
        "IsWon",
        "IsClosed",
        "Amount",
    ],
    "users": [
        "Id",
        "Name",
        "Team__c",
        "UserRole",
        "Product_Groups__c",
        "Territories__c",
        "Max_Open_Leads__c",
        "IsActive",
        "Out_Of_Office_From__c",
        "Out_Of_Office_To__c",
        "TimeZoneSidKey",
        "Working_Hours__c",
        "ManagerId",
    ],
    "lead_history": [
        "LeadId",
        "Product_Group__c",
        "Stage__c",
        "CreatedDate",
        "CreatedById",
        "Reason__c",
    ],
    "tasks": ["Id", "WhoId", "OwnerId", "Type", "CreatedDate", "CallDisposition"],
    "activities": [
        "marketoGUID",
        "leadId",
        "sfdcLeadId",
        "activityDate",
        "activityTypeName",
        "primaryAttributeValue",
        "productGroup",
        "campaignName",
    ],
}


def _read(out: Path, stem: str) -> pl.DataFrame:
    """Read an export as strings, the way a first look at a CRM file should."""
    return pl.read_csv(out / f"{stem}.csv", infer_schema_length=0)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("sample")
    return out, generate_sample(out, n_leads=N, seed=11, export_date=EXPORT)


@pytest.fixture(scope="module")
def tables(sample: tuple[Path, dict[str, int]]) -> dict[str, pl.DataFrame]:
    return {stem: _read(sample[0], stem) for stem in COLUMNS}


def _bytes(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    runs = {}
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        generate_sample(tmp_path / name, n_leads=N, seed=seed, export_date=EXPORT)
        runs[name] = _bytes(tmp_path / name)
    assert runs["a"] == runs["b"]
    assert runs["a"].keys() == runs["c"].keys()
    assert all(runs["a"][f] != runs["c"][f] for f in runs["a"])


def test_parquet_is_deterministic_and_truth_only_on_request(tmp_path: Path) -> None:
    kw = {"n_leads": 200, "seed": 3, "export_date": EXPORT, "fmt": "parquet", "truth": True}
    c1 = generate_sample(tmp_path / "a", **kw)
    generate_sample(tmp_path / "b", **kw)
    assert _bytes(tmp_path / "a") == _bytes(tmp_path / "b")
    truth = pl.read_parquet(tmp_path / "a" / "_truth" / "ground_truth.parquet")
    assert truth.columns == ["lead_id", "product_group", "fit", "intent", "converted"]
    assert truth.height == 200 * 2 == c1["_truth/ground_truth.parquet"]
    for stem, cols in COLUMNS.items():
        frame = pl.read_parquet(tmp_path / "a" / f"{stem}.parquet")
        assert frame.columns == cols
        assert frame.height == c1[f"{stem}.parquet"]


def test_no_truth_by_default(sample: tuple[Path, dict[str, int]]) -> None:
    out, counts = sample
    assert not (out / "_truth").exists()
    assert set(counts) == {f"{stem}.csv" for stem in COLUMNS}


def test_every_file_and_column_and_returned_counts(
    sample: tuple[Path, dict[str, int]], tables: dict[str, pl.DataFrame]
) -> None:
    _, counts = sample
    for stem, cols in COLUMNS.items():
        assert tables[stem].columns == cols, stem
        assert tables[stem].height == counts[f"{stem}.csv"] > 0, stem
    assert counts["leads.csv"] == N
    assert 12 <= counts["users.csv"] <= 40
    assert 10 <= counts["activities.csv"] / N <= 35  # ~20 per lead


def test_ids_unique_and_shaped_like_salesforce(tables: dict[str, pl.DataFrame]) -> None:
    for stem, prefix in (
        ("leads", "00Q"),
        ("accounts", "001"),
        ("opportunities", "006"),
        ("users", "005"),
        ("tasks", "00T"),
    ):
        ids = tables[stem]["Id"]
        assert ids.n_unique() == len(ids), stem
        assert ids.str.contains(f"^{prefix}[0-9A-Za-z]{{15}}$").all(), stem
    assert tables["activities"]["marketoGUID"].n_unique() == tables["activities"].height


def test_referential_sanity(tables: dict[str, pl.DataFrame]) -> None:
    leads, users, accounts = tables["leads"]["Id"], tables["users"]["Id"], tables["accounts"]["Id"]
    opps = tables["opportunities"]
    assert opps["Primary_Lead__c"].is_in(leads.implode()).all()
    assert opps["AccountId"].drop_nulls().is_in(accounts.implode()).all()
    assert tables["activities"]["sfdcLeadId"].is_in(leads.implode()).all()
    assert tables["lead_history"]["LeadId"].is_in(leads.implode()).all()
    assert tables["lead_history"]["CreatedById"].is_in(users.implode()).all()
    assert tables["tasks"]["WhoId"].is_in(leads.implode()).all()
    assert tables["tasks"]["OwnerId"].is_in(users.implode()).all()
    assert tables["leads"]["OwnerId"].drop_nulls().is_in(users.implode()).all()
    assert tables["leads"]["Account__c"].drop_nulls().is_in(accounts.implode()).all()
    # The opportunity sits on the lead's matched account; converted leads say so.
    joined = opps.join(tables["leads"], left_on="Primary_Lead__c", right_on="Id")
    assert (joined["AccountId"].eq_missing(joined["Account__c"])).all()
    assert (joined["IsConverted"] == "true").all()


def test_all_times_derive_from_export_date(tmp_path: Path) -> None:
    end = date(2020, 3, 1)
    generate_sample(tmp_path, n_leads=150, seed=1, export_date=end)
    limit = datetime(end.year, end.month, end.day)
    for stem, col, fmt in (
        ("leads", "CreatedDate", SF),
        ("lead_history", "CreatedDate", SF),
        ("tasks", "CreatedDate", SF),
        ("opportunities", "CreatedDate", SF),
        ("activities", "activityDate", "%Y-%m-%dT%H:%M:%SZ"),
    ):
        times = _read(tmp_path, stem)[col].str.to_datetime(fmt)
        assert times.max() < limit, stem
        assert times.min() >= limit - timedelta(days=731), stem


def test_values_are_in_their_vocabularies(tables: dict[str, pl.DataFrame]) -> None:
    leads = tables["leads"]
    stages = [
        "Inquiry",
        "MQL",
        "SAL",
        "SQL",
        "Opportunity",
        "Won",
        "Lost",
        "Recycled",
        "Disqualified",
    ]
    assert leads["Lifecycle_Stage__c"].is_in(stages).all()
    assert tables["lead_history"]["Stage__c"].is_in(stages).all()
    assert set(leads["Budget__c"].unique()) <= {"Yes", "No", "Unknown"}
    assert set(leads["Purchase_Timeframe__c"].unique()) <= {
        "0-3 months",
        "3-6 months",
        "6-12 months",
        "None",
    }
    assert set(leads["HasOptedOutOfEmail"].unique()) == {"true", "false"}
    assert set(tables["users"]["UserRole"].unique()) == {"SDR", "AE", "Manager"}
    assert set(tables["opportunities"]["Product_Group__c"].unique()) <= {"Analytics", "Cloud"}
    assert leads["CreatedDate"].str.contains(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000\+0000$").all()
    assert leads["ConvertedDate"].drop_nulls().str.contains(r"^\d{4}-\d\d-\d\d$").all()


def test_the_dirt_is_there(tables: dict[str, pl.DataFrame]) -> None:
    leads = tables["leads"]
    email = pl.col("Email").str.strip_chars().str.to_lowercase()
    free = leads.filter(email.str.contains("@(gmail|yahoo|hotmail|outlook)\\.")).height
    assert 0.03 * N < free < 0.3 * N
    assert leads["Email"].null_count() > 0 and leads["Phone"].null_count() > 0
    digits = pl.col("Phone").str.replace_all(r"\D", "").str.len_chars()
    bad = leads.filter(pl.col("Phone").str.contains("[A-Za-z]") | (digits < 7))
    assert bad.height > 0
    assert leads["Phone"].str.starts_with("+").any() and leads["Phone"].str.starts_with("(").any()
    # Duplicate people: same name and company, different Id, e-mail differs only in case/space.
    dups = (
        leads.filter(pl.col("Email").is_not_null())
        .group_by(email.alias("key"), "FirstName", "LastName")
        .agg(pl.col("Id").n_unique().alias("ids"), pl.col("Email").n_unique().alias("raw"))
        .filter((pl.col("ids") > 1) & (pl.col("raw") > 1))
    )
    assert dups.height > 0
    countries = set(leads["Country"].drop_nulls().unique())
    assert len(countries & {"USA", "United States", "US", "U.S.", "united states"}) >= 3
    assert len(countries) >= 10
    assert leads["Company"].str.starts_with("=").any()
    assert leads["Title"].str.contains("\n").any()
    assert leads["Company"].str.contains(', .*"').any()  # a comma and quotes in one value
    inactive = tables["users"].filter(pl.col("IsActive") == "false")["Id"]
    assert inactive.len() > 0
    assert tables["users"]["Out_Of_Office_From__c"].drop_nulls().len() > 0
    reasons = tables["lead_history"].filter(pl.col("Stage__c").is_in(["Recycled", "Disqualified"]))
    assert reasons["Reason__c"].null_count() > 0


def test_sales_stages_have_tasks_and_some_zombies(tables: dict[str, pl.DataFrame]) -> None:
    hist = tables["lead_history"].with_columns(t=pl.col("CreatedDate").str.to_datetime(SF))
    sal = hist.filter(pl.col("Stage__c") == "SAL").group_by("LeadId").agg(sal=pl.col("t").min())
    tasks = tables["tasks"].with_columns(t=pl.col("CreatedDate").str.to_datetime(SF))
    per_lead = tasks.group_by("WhoId").agg(first=pl.col("t").min(), last=pl.col("t").max())
    joined = sal.join(per_lead, left_on="LeadId", right_on="WhoId", how="left")
    assert joined["first"].is_not_null().mean() > 0.7  # mostly worked after acceptance
    assert (joined.drop_nulls()["first"] >= joined.drop_nulls()["sal"]).all()
    assert (joined["first"] - joined["sal"] > timedelta(days=2)).any()  # SLA breaches
    end = datetime(EXPORT.year, EXPORT.month, EXPORT.day)
    open_sales = tables["leads"].filter(pl.col("Lifecycle_Stage__c").is_in(["SAL", "SQL"]))
    zombies = joined.join(open_sales.select("Id"), left_on="LeadId", right_on="Id").filter(
        (pl.col("sal") < end - timedelta(days=100))
        & (pl.col("last").is_null() | (pl.col("last") < end - timedelta(days=60)))
    )
    assert zombies.height > 0


def _snapshots(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Monthly (lead, product group) snapshots over the last year: did the lead request a demo
    or visit pricing for that group in the 60 days before, and was an opportunity created for
    it within the following 90 days?"""
    end = datetime(EXPORT.year, EXPORT.month, EXPORT.day)
    opps = tables["opportunities"].select(
        lead="Primary_Lead__c", pg="Product_Group__c", t=pl.col("CreatedDate").str.to_datetime(SF)
    )
    acts = tables["activities"].select(
        lead="sfdcLeadId",
        pg="productGroup",
        t=pl.col("activityDate").str.to_datetime("%Y-%m-%dT%H:%M:%SZ"),
        hot=pl.col("activityTypeName").is_in(["Request Demo", "Visit Pricing Page"]),
    )
    leads = tables["leads"].select(lead="Id", created=pl.col("CreatedDate").str.to_datetime(SF))
    pairs = leads.join(pl.DataFrame({"pg": ["Analytics", "Cloud"]}), how="cross")
    rows = []
    for k in range(12):
        d = end - timedelta(days=90 + 30 * k)
        done = opps.filter(pl.col("t") <= d).select("lead", "pg").unique()
        label = opps.filter((pl.col("t") > d) & (pl.col("t") <= d + timedelta(days=90)))
        hot = acts.filter(pl.col("hot") & (pl.col("t") <= d) & (pl.col("t") > d - timedelta(60)))
        rows.append(
            pairs.filter(pl.col("created") <= d)
            .join(done, on=["lead", "pg"], how="anti")
            .with_columns(
                y=pl.struct("lead", "pg").is_in(
                    label.select(pl.struct("lead", "pg")).to_series().implode()
                ),
                hot=pl.struct("lead", "pg").is_in(
                    hot.select(pl.struct("lead", "pg")).to_series().implode()
                ),
            )
        )
    return pl.concat(rows)


def test_recent_high_intent_activity_predicts_conversion(tables: dict[str, pl.DataFrame]) -> None:
    snaps = _snapshots(tables)
    rates = snaps.group_by("hot").agg(pl.col("y").mean(), pl.len()).sort("hot")
    cold, hot = rates["y"].to_list()
    assert rates["len"].min() >= 20
    assert 0.01 < snaps["y"].mean() < 0.12  # a few per cent per snapshot
    assert hot > 4 * cold


def test_custom_fields_and_negative_signals_carry_signal(tmp_path: Path) -> None:
    generate_sample(tmp_path, n_leads=1500, seed=2, export_date=EXPORT)
    leads = _read(tmp_path, "leads").with_columns(conv=pl.col("IsConverted") == "true")
    rate = dict(leads.group_by("Budget__c").agg(pl.col("conv").mean()).iter_rows())
    assert rate["Yes"] > 1.3 * rate["No"]
    tf = dict(leads.group_by("Purchase_Timeframe__c").agg(pl.col("conv").mean()).iter_rows())
    assert tf["0-3 months"] > 1.3 * tf["None"]
    student = pl.col("Title").str.contains("(?i)student|intern") | (
        pl.col("Current_Occupation__c") == "Student"
    )
    assert leads.filter(student)["conv"].mean() < 0.5 * leads.filter(~student)["conv"].mean()
    share = leads["conv"].mean()
    assert 0.08 < share < 0.3  # ~10-20 % of leads ever convert


@pytest.mark.parametrize(
    "kwargs", [{"fmt": "xlsx"}, {"product_groups": 4}, {"product_groups": 0}, {"n_leads": 0}]
)
def test_bad_arguments_raise_config_error(tmp_path: Path, kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        generate_sample(tmp_path, **kwargs)  # type: ignore[arg-type]


# --- Large sizes: independent shards appended to the same files ---------------------------------

SHARDED = {
    "n_leads": 700,
    "seed": 9,
    "product_groups": 3,
    "export_date": EXPORT,
    "shard_leads": 250,
}
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _shard_of(ids: pl.Series) -> pl.Series:
    """The shard an 18-character id was generated in: its number (id chars 6-14) // 62**7."""
    digits = [ids.str.slice(i, 1).replace_strict(list(B62), range(62)) for i in range(6, 15)]
    num = pl.select(sum(pl.lit(d).cast(pl.Int64) * 62 ** (8 - i) for i, d in enumerate(digits)))
    return num.to_series() // 62**7


@pytest.fixture(scope="module")
def sharded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("sharded")
    return out, generate_sample(out, fmt="parquet", truth=True, **SHARDED)


@pytest.fixture(scope="module")
def sharded_tables(sharded: tuple[Path, dict[str, int]]) -> dict[str, pl.DataFrame]:
    return {stem: pl.read_parquet(sharded[0] / f"{stem}.parquet") for stem in COLUMNS}


def test_shard_sizes() -> None:
    assert shard_sizes(5, 10) == [5]
    assert shard_sizes(10, 10) == [10]
    assert shard_sizes(11, 10) == [6, 5]
    assert shard_sizes(700, 250) == [234, 233, 233]
    assert shard_sizes(10_000_000) == [1_000_000] * 10
    assert shard_sizes(10_000_001) == [909_091] * 11
    assert shard_sizes(10_000_002) == [909_092] + [909_091] * 10
    assert sum(shard_sizes(12_345_678, 1_000_000)) == 12_345_678
    with pytest.raises(ConfigError):
        shard_sizes(10, 0)


def test_up_to_one_shard_the_files_are_the_unsharded_ones(tmp_path: Path) -> None:
    kw = {"n_leads": 300, "seed": 5, "export_date": EXPORT, "fmt": "parquet", "truth": True}
    generate_sample(tmp_path / "a", **kw)
    generate_sample(tmp_path / "b", shard_leads=300, **kw)
    assert _bytes(tmp_path / "a") == _bytes(tmp_path / "b")


def test_committed_sample_data_is_what_the_generator_writes(tmp_path: Path) -> None:
    """`make sample` (5000 leads, seed 42, csv) must still write the committed sample_data/."""
    committed = Path(__file__).resolve().parent.parent / "sample_data"
    generate_sample(tmp_path, n_leads=5000, seed=42)
    assert _bytes(tmp_path) == _bytes(committed)


def test_sharded_counts_add_up(sharded: tuple[Path, dict[str, int]], tmp_path: Path) -> None:
    out, counts = sharded
    sizes = shard_sizes(SHARDED["n_leads"], SHARDED["shard_leads"])
    assert len(sizes) == 3
    assert set(counts) == {f"{s}.parquet" for s in COLUMNS} | {"_truth/ground_truth.parquet"}
    for name, rows in counts.items():
        assert pl.read_parquet(out / name).height == rows, name
    assert counts["leads.parquet"] == 700
    assert counts["_truth/ground_truth.parquet"] == 700 * 3
    # Reps and accounts per shard are what a population of the shard's size has on its own.
    alone = [
        generate_sample(tmp_path / str(n), n_leads=n, seed=1, product_groups=3, fmt="parquet")
        for n in sorted(set(sizes))
    ]
    per_size = {n: c for n, c in zip(sorted(set(sizes)), alone, strict=True)}
    for stem in ("users", "accounts"):
        assert counts[f"{stem}.parquet"] == sum(per_size[n][f"{stem}.parquet"] for n in sizes)
    # One row group per shard (tables) and per shard and activity chunk (the log).
    import pyarrow.parquet as pq

    for stem in ("users", "leads", "lead_history"):
        assert pq.ParquetFile(out / f"{stem}.parquet").metadata.num_row_groups == 3, stem


def test_sharded_ids_unique_across_shards(sharded_tables: dict[str, pl.DataFrame]) -> None:
    t = sharded_tables
    for stem, prefix in (
        ("leads", "00Q"),
        ("accounts", "001"),
        ("opportunities", "006"),
        ("users", "005"),
        ("tasks", "00T"),
    ):
        ids = t[stem]["Id"]
        assert ids.n_unique() == len(ids), stem
        assert ids.str.contains(f"^{prefix}[0-9A-Za-z]{{15}}$").all(), stem
        assert sorted(_shard_of(ids).unique().to_list()) == [0, 1, 2], stem
    acts = t["activities"]
    assert acts["marketoGUID"].n_unique() == acts.height
    assert acts["marketoGUID"].cast(pl.Int64).sort().to_list() == list(
        range(10_000_000, 10_000_000 + acts.height)
    )
    # Marketo's lead id and the Salesforce lead id map one to one across the whole log.
    pairs = acts.select("leadId", "sfdcLeadId").unique()
    assert pairs["leadId"].n_unique() == pairs["sfdcLeadId"].n_unique() == pairs.height


def test_sharded_referential_integrity(sharded_tables: dict[str, pl.DataFrame]) -> None:
    t = sharded_tables
    leads, users, accounts = t["leads"]["Id"], t["users"]["Id"], t["accounts"]["Id"]

    def within(values: pl.Series, ids: pl.Series) -> bool:
        return bool(values.drop_nulls().is_in(ids.implode()).all())

    assert within(t["leads"]["Account__c"], accounts)
    assert within(t["leads"]["OwnerId"], users)
    assert within(t["accounts"]["OwnerId"], users)
    assert within(t["users"]["ManagerId"], users)
    assert within(t["opportunities"]["Primary_Lead__c"], leads)
    assert within(t["opportunities"]["AccountId"], accounts)
    assert within(t["lead_history"]["LeadId"], leads)
    assert within(t["lead_history"]["CreatedById"], users)
    assert within(t["tasks"]["WhoId"], leads)
    assert within(t["tasks"]["OwnerId"], users)
    assert within(t["activities"]["sfdcLeadId"], leads)
    # Each shard is its own population: a lead's account, owner, history actors and task owners,
    # an account's owner and a rep's manager come from the lead's (account's, rep's) shard.
    for frame, left, right in (
        (t["leads"], "Id", "Account__c"),
        (t["leads"], "Id", "OwnerId"),
        (t["accounts"], "Id", "OwnerId"),
        (t["users"], "Id", "ManagerId"),
        (t["lead_history"], "LeadId", "CreatedById"),
        (t["tasks"], "WhoId", "OwnerId"),
        (t["opportunities"], "Primary_Lead__c", "AccountId"),
    ):
        f = frame.filter(pl.col(right).is_not_null())
        assert (_shard_of(f[left]) == _shard_of(f[right])).all(), (left, right)
    joined = t["opportunities"].join(t["leads"], left_on="Primary_Lead__c", right_on="Id")
    assert joined["AccountId"].eq_missing(joined["Account__c"]).all()
    assert joined["IsConverted"].all()
    # Every shard has the whole team structure (managers, SDRs, AEs per group and region).
    roles = t["users"].with_columns(shard=_shard_of(t["users"]["Id"]))
    teams = roles.group_by("shard").agg(pl.col("Team__c").n_unique(), pl.col("UserRole").n_unique())
    assert teams["Team__c"].to_list() == [9] * 3 and teams["UserRole"].to_list() == [3] * 3


def test_sharded_is_deterministic_csv_has_one_header(tmp_path: Path) -> None:
    kw = {**SHARDED, "n_leads": 500, "shard_leads": 200}
    runs = {}
    for name in ("a", "b"):
        counts = generate_sample(tmp_path / name, **kw)
        runs[name] = _bytes(tmp_path / name)
    assert runs["a"] == runs["b"]
    for stem, cols in COLUMNS.items():
        frame = _read(tmp_path / "a", stem)
        assert frame.columns == cols
        assert frame.height == counts[f"{stem}.csv"]
        assert not (frame[cols[0]] == cols[0]).any(), stem  # no header repeated mid-file
    assert counts["leads.csv"] == 500
    assert _read(tmp_path / "a", "leads")["Id"].n_unique() == 500
    # Same rows whichever format: the CSV and Parquet writers append the same shards.
    pq_counts = generate_sample(tmp_path / "p", fmt="parquet", **kw)
    assert {k.removesuffix(".parquet"): v for k, v in pq_counts.items()} == {
        k.removesuffix(".csv"): v for k, v in counts.items()
    }
    leads_pq = pl.read_parquet(tmp_path / "p" / "leads.parquet")
    assert leads_pq["Id"].to_list() == _read(tmp_path / "a", "leads")["Id"].to_list()
    # Another shard size is another (equally valid) data set.
    generate_sample(tmp_path / "c", **{**kw, "shard_leads": 300})
    assert _bytes(tmp_path / "c")["leads.csv"] != runs["a"]["leads.csv"]


def test_sample_cli_reports_shards_and_true_row_counts(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    import leadctl.cli  # noqa: F401  (registers every command)
    from leadctl.cli_common import app

    args = ["sample", "--leads", "450", "--seed", "3", "--shard-leads", "200"]
    out = tmp_path / "x"
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--format", "parquet", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["shards"] == 3
    assert summary["files"]["leads.parquet"] == 450
    for name, rows in summary["files"].items():
        assert pl.read_parquet(out / name).height == rows, name
    text = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "y")], env={"COLUMNS": "200"})
    assert text.exit_code == 0, text.output
    assert "3 independent shards of up to 150 leads" in text.stdout
    assert (
        "shards"
        not in CliRunner()
        .invoke(app, ["sample", "--out", str(tmp_path / "z"), "--leads", "50"])
        .stdout
    )
