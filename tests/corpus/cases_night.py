"""Corpus cases: reps and teams, files, thresholds, config and models (see make_cases.py)."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from base import BASE_CONFIG, Case, case, csv_text, merge

# --- people and teams ----------------------------------------------------------------------------


@case
def no_reps() -> Case:
    c = Case("no_reps", "users.csv has no rows: every verified lead goes to the overflow queue.")
    c.tables["reps"] = (c.header("reps"), [])
    c.expect(assigned=0)
    return c


@case
def all_reps_inactive() -> Case:
    c = Case("all_reps_inactive", "Every rep is inactive: overflow with reason all_reps_inactive.")
    c.set_all("reps", "IsActive", "false")
    c.expect(assigned=0, overflow_reasons=["all_reps_inactive"])
    return c


@case
def all_reps_full() -> Case:
    c = Case("all_reps_full", "Every rep is at capacity (0): overflow, all_reps_at_capacity.")
    c.set_all("reps", "Max_Open_Leads__c", "0")
    c.expect(assigned=0, overflow_reasons=["all_reps_at_capacity"])
    return c


@case
def all_reps_out_of_office() -> Case:
    c = Case("all_reps_out_of_office", "Every rep is out of office tonight.")
    c.set_all("reps", "Out_Of_Office_From__c", "2026-11-15")
    c.set_all("reps", "Out_Of_Office_To__c", "2026-11-30")
    c.expect(assigned=0, overflow_reasons=["all_reps_out_of_office"])
    return c


@case
def reps_without_territory() -> Case:
    c = Case(
        "reps_without_territory",
        "No rep lists a territory: a rep without a territory list "
        "covers every region of its team, so the leads are still assigned.",
    )
    c.set_all("reps", "Territories__c", "")
    c.expect(assigned=10)
    return c


@case
def reps_cover_other_territories() -> Case:
    c = Case(
        "reps_cover_other_territories",
        "Every rep covers APAC only: nobody covers the leads' "
        "regions, so they overflow with no_rep_covers_territory.",
    )
    c.set_all("reps", "Territories__c", "APAC")
    c.expect(assigned=3, overflow_reasons=["no_rep_covers_territory"])  # named accounts: owner
    return c


@case
def team_without_territory() -> Case:
    c = Case(
        "team_without_territory",
        "A team with no regions in the config takes every region; "
        "its reps need no territory match.",
    )
    teams = deepcopy(BASE_CONFIG["assign"]["teams"])
    teams[0] = {**teams[0], "regions": [], "match_rep_territory": False}
    c.configure({"assign": {"teams": teams}})
    return c


@case
def reps_bad_zone_and_hours() -> Case:
    c = Case(
        "reps_bad_zone_and_hours",
        "Unknown time zone and impossible working hours fall back to the team's / the defaults.",
    )
    c.set_all("reps", "TimeZoneSidKey", "Mars/Olympus_Mons")
    c.set_all("reps", "Working_Hours__c", "25:00-99:00")
    return c


# --- files ---------------------------------------------------------------------------------------


@case
def missing_file() -> Case:
    c = Case("missing_file", "users.csv is not there.")
    c.raw["users.csv"] = None
    c.expect(exit_code=3, message=["reps", "users.csv", "does not exist"])
    return c


@case
def truncated_parquet() -> Case:
    c = Case("truncated_parquet", "leads.parquet was cut off half-way by a failed transfer.")
    header, rows = c.tables["leads"]
    table = pa.table({h: [r[i] for r in rows] for i, h in enumerate(header)})
    buffer = pa.BufferOutputStream()
    pq.write_table(table, buffer)
    data = buffer.getvalue().to_pybytes()
    c.raw["leads.csv"] = None
    c.raw["leads.parquet"] = data[: len(data) // 2]
    c.configure({"inputs": {"tables": {"leads": {"path": "leads.parquet"}}}})
    c.expect(exit_code=3, message=["leads", "leads.parquet", "Parquet"])
    return c


@case
def parquet_inputs() -> Case:
    c = Case("parquet_inputs", "leads as typed Parquet (int employees, timestamp created date).")
    header, rows = c.tables["leads"]
    columns: dict[str, Any] = {h: [r[i] or None for r in rows] for i, h in enumerate(header)}
    columns["NumberOfEmployees"] = pa.array(
        [int(v) if v else None for v in columns["NumberOfEmployees"]], pa.int64()
    )
    columns["CreatedDate"] = pa.array(
        [v.replace("Z", "") for v in columns["CreatedDate"]], pa.string()
    ).cast(pa.timestamp("us"))
    buffer = pa.BufferOutputStream()
    pq.write_table(pa.table(columns), buffer)
    c.raw["leads.csv"] = None
    c.raw["leads.parquet"] = buffer.getvalue().to_pybytes()
    c.configure({"inputs": {"tables": {"leads": {"path": "leads.parquet"}}}})
    c.expect(canonical=[{"table": "leads", "key": "L001", "column": "employees", "value": 1200}])
    return c


@case
def directory_instead_of_file() -> Case:
    c = Case("directory_instead_of_file", "users.csv is a directory (a mis-mounted share).")
    c.dirs["users.csv"] = {"README.txt": b"the real export was not copied\n"}
    c.expect(exit_code=3, message=["reps", "users.csv"])
    return c


@case
def unreadable_file() -> Case:
    c = Case("unreadable_file", "leads.csv exists but may not be read (mode 000).")
    c.expect(
        setup=[{"chmod_000": "inputs/leads.csv"}],
        exit_code=3,
        message=["leads", "leads.csv", "permission denied"],
    )
    return c


# --- thresholds ----------------------------------------------------------------------------------


@case
def reject_share_breached() -> Case:
    c = Case(
        "reject_share_breached",
        "2 of 10 leads unusable with max_reject_share 0.05: the night "
        "stops with exit 4 and the rejects file says which rows.",
    )
    c.configure({"inputs": {"max_reject_share": 0.05}})
    c.set("leads", "L003", "CreatedDate", "")
    c.set("leads", "L005", "Id", "")
    c.expect(exit_code=4, rejects={"leads": 2}, message=["leads", "rejects", "max_reject_share"])
    return c


@case
def all_leads_rejected() -> Case:
    c = Case("all_leads_rejected", "No lead has a CreatedDate: everything rejected, exit 4.")
    c.set_all("leads", "CreatedDate", "")
    c.expect(exit_code=4, rejects={"leads": 10}, message=["leads", "max_reject_share"])
    return c


# --- config --------------------------------------------------------------------------------------


@case
def config_unknown_key() -> Case:
    c = Case("config_unknown_key", "A typo in the config (rate.cutofs) is refused with a hint.")
    c.config["rate"]["cutofs"] = c.config["rate"].pop("cutoffs")
    c.expect(exit_code=2, message=["rate.cutofs", "did you mean 'cutoffs'"])
    return c


@case
def config_wrong_type() -> Case:
    c = Case("config_wrong_type", "Wrong value types: max_reject_share 'lots', capacity 'many'.")
    c.configure({"inputs": {"max_reject_share": "lots"}, "assign": {"default_capacity": "many"}})
    c.expect(exit_code=2, message=["inputs.max_reject_share", "assign.default_capacity"])
    return c


@case
def config_contradictory_cutoffs() -> Case:
    c = Case("config_contradictory_cutoffs", "Fixed cutoffs that increase (A needs less than B).")
    c.configure(
        {"rate": {"cutoffs": {"method": "fixed", "fit": [20, 40, 60], "engagement": [50, 30, 10]}}}
    )
    c.expect(exit_code=2, message=["rate.cutoffs", "must not increase"])
    return c


@case
def config_contradictory_snapshots() -> Case:
    c = Case("config_contradictory_snapshots", "More hold-out snapshots than snapshots.")
    c.configure({"train": {"snapshots": {"count": 3, "holdout": 5}}})
    c.expect(exit_code=2, message=["train.snapshots", "holdout"])
    return c


@case
def config_stage_cycle() -> Case:
    c = Case(
        "config_stage_cycle",
        "Two stages only lead to each other and cannot be reached from "
        "the initial stage (a transition cycle cut off from the funnel).",
    )
    stages = [
        "Inquiry",
        "MQL",
        "MQL-Override",
        "SAL",
        "SQL",
        "Opportunity",
        "Won",
        "Lost",
        "Recycled",
        "Disqualified",
        "Limbo",
        "Purgatory",
    ]
    transitions = {
        "Inquiry": ["MQL", "MQL-Override", "Disqualified", "Recycled"],
        "MQL": ["SAL", "Recycled", "Disqualified"],
        "MQL-Override": ["SAL", "Recycled"],
        "SAL": ["SQL", "Lost", "Recycled", "Disqualified"],
        "SQL": ["Opportunity", "Lost"],
        "Opportunity": ["Won", "Lost"],
        "Won": [],
        "Lost": ["Recycled"],
        "Recycled": ["MQL", "Inquiry"],
        "Disqualified": ["Recycled"],
        "Limbo": ["Purgatory"],
        "Purgatory": ["Limbo"],
    }
    c.configure({"lifecycle": {"stages": stages, "transitions": transitions}})
    c.expect(exit_code=2, message=["lifecycle", "Limbo", "Purgatory", "cannot be reached"])
    return c


@case
def config_broken_override_regex() -> Case:
    c = Case("config_broken_override_regex", "An override rule's regex does not compile.")
    c.configure(
        {
            "rate": {
                "overrides": [
                    {
                        "name": "execs",
                        "owner": "Sales ops",
                        "review_by": "2027-01-31",
                        "conditions": [{"kind": "field", "field": "title", "regex": "(chief|vp"}],
                        "action": "fast_track",
                        "sla_tier": "fast_track",
                    }
                ]
            }
        }
    )
    c.expect(exit_code=2, message=["rate.overrides", "regex", "(chief|vp"])
    return c


@case
def config_not_yaml() -> Case:
    c = Case("config_not_yaml", "The config file is not valid YAML (a tab and an open bracket).")
    c.extra_configs["config.yaml"] = "inputs:\n\tdir: [inputs\n"
    c.expect(exit_code=2, message=["config", "not valid YAML"])
    return c


@case
def config_unknown_table() -> Case:
    c = Case("config_unknown_table", "inputs.tables names a table leadctl does not know.")
    c.configure({"inputs": {"tables": {"contacts": {"path": "leads.csv"}}}})
    c.expect(exit_code=2, message=["inputs", "unknown table", "contacts"])
    return c


@case
def bad_as_of() -> Case:
    c = Case("bad_as_of", "--as-of is not a date.")
    c.expect(as_of="2026-13-01", exit_code=2, message=["--as-of", "2026-13-01"])
    return c


# --- models --------------------------------------------------------------------------------------


@case
def guards_lowered_tiny_group() -> Case:
    c = Case(
        "guards_lowered_tiny_group",
        "Training guards lowered to 1 on a handful of leads: "
        "the group passes the label guards but cannot be split into training, validation "
        "and test rows; train refuses it (points model) instead of crashing in LightGBM.",
    )
    c.configure(
        {
            "train": {
                "guards": {"min_labelled_leads": 1, "min_positives": 1, "leakage_auc": 1.0},
                "lightgbm": {"min_child_samples": 1, "max_rounds": 5, "early_stopping_rounds": 2},
                "snapshots": {"count": 8, "every_days": 60, "holdout": 2},
            }
        }
    )
    c.expect(message=["too few rows to split"])
    return c


@case
def model_from_other_config() -> Case:
    c = Case(
        "model_from_other_config",
        "Models were trained under a config with other feature "
        "windows; tonight's config differs: score refuses them (exit 6) instead of scoring "
        "with mismatched features. The only case with more than a handful of rows: a "
        "model needs them, so its exports are generated at setup (leadctl.sample).",
    )
    c.generated_inputs = True
    trainable = {
        "guards": {"min_labelled_leads": 100, "min_positives": 10, "leakage_auc": 1.0},
        "lightgbm": {"max_rounds": 20, "early_stopping_rounds": 5, "min_child_samples": 10},
    }
    other = deepcopy(c.config)
    other["train"] = merge(other["train"], {**trainable, "features": {"windows_days": [7, 30, 90]}})
    c.extra_configs["config_trained.yaml"] = other
    c.configure({"train": trainable})
    c.expect(
        setup=[{"sample": {"n_leads": 400, "seed": 11}}, {"pre_run": "config_trained.yaml"}],
        exit_code=6,
        message=["model for product group", "windows_days", "retrain"],
    )
    return c


# --- earlier nights ------------------------------------------------------------------------------


@case
def second_night() -> Case:
    c = Case(
        "second_night",
        "The night after a clean one: state, hysteresis and the assignments log are read; leads "
        "assigned last night are kept by their owners, not assigned twice.",
    )
    c.expect(setup=[{"pre_run": "config.yaml", "as_of": "2026-11-19"}], assigned=0)
    return c


@case
def second_night_lead_deleted() -> Case:
    c = Case(
        "second_night_lead_deleted",
        "A lead assigned last night is gone from tonight's export (merged or deleted in the CRM); "
        "nothing refers to it any more and nothing is invented for it.",
    )
    rows = c.rows("leads")
    tonight = [r for r in rows if r[0] != "L004"]
    c.raw["leads_tonight.csv"] = csv_text(c.header("leads"), tonight).encode()
    c.expect(
        setup=[
            {"pre_run": "config.yaml", "as_of": "2026-11-19"},
            {"replace_input": {"inputs/leads.csv": "inputs/leads_tonight.csv"}},
        ],
        valid={"leads": 9},
    )
    return c


def _corrupt_state(name: str, path: str, exit_code: int, message: list[str]) -> Case:
    c = Case(name, f"{path} from last night was cut off half-way (a full disk, a bad restore).")
    c.expect(
        setup=[{"pre_run": "config.yaml", "as_of": "2026-11-19"}, {"truncate": path}],
        exit_code=exit_code,
        message=message,
    )
    return c


@case
def corrupt_rate_state() -> Case:
    return _corrupt_state(
        "corrupt_rate_state",
        "out/state/rate/2026-11-19.parquet",
        3,
        ["rate state", "2026-11-19.parquet", "move it away"],
    )


@case
def corrupt_assign_state() -> Case:
    return _corrupt_state(
        "corrupt_assign_state",
        "out/state/assign/2026-11-19.parquet",
        3,
        ["assign state", "2026-11-19.parquet", "delete it to start fresh"],
    )


@case
def corrupt_assignments_log() -> Case:
    return _corrupt_state(
        "corrupt_assignments_log",
        "out/state/assignments_log/2026-11-19.parquet",
        3,
        ["assignments log", "2026-11-19.parquet"],
    )


@case
def corrupt_reassign_file() -> Case:
    return _corrupt_state(
        "corrupt_reassign_file",
        "out/2026-11-19/reassign.csv",
        3,
        ["reassign.csv", "leadctl expire"],
    )


@case
def corrupt_model_card() -> Case:
    c = _corrupt_state("corrupt_model_card", "out/models/Analytics/card.json", 0, [])
    c.expected["description"] += " run retrains over the unreadable card."
    c.expected["manifest"] = {"stages.train.reason": "model card for Analytics is unreadable"}
    return c


# --- odd values the stages meet ------------------------------------------------------------------


@case
def odd_lead_values() -> Case:
    c = Case(
        "odd_lead_values",
        "An unknown country, a phone in words, a broken e-mail, a 20,000-character company, an id "
        "with a comma, a quote, a line break and an emoji: verify fails or warns, nothing crashes.",
    )
    c.set("leads", "L001", "Country", "Narnia")
    c.set("leads", "L002", "Phone", "call me maybe")
    c.set("leads", "L003", "Email", "not an email@@")
    c.set("leads", "L004", "Company", "x" * 20000)
    c.set("leads", "L005", "Id", 'L,"005\n🙂')
    c.set("leads", "L006", "State", "Atlantis")
    c.set("leads", "L007", "Country", "USA")
    c.set("leads", "L008", "Email", " Spaced@Example.COM ")
    return c


@case
def odd_rep_values() -> Case:
    c = Case(
        "odd_rep_values",
        "Out-of-office ending before it starts, product groups in other case and spacing, a team "
        "the config does not know, a negative capacity.",
    )
    c.set("reps", "R000", "Out_Of_Office_From__c", "2026-11-30")
    c.set("reps", "R000", "Out_Of_Office_To__c", "2026-11-01")
    c.set("reps", "R001", "Product_Groups__c", "analytics ; CLOUD")
    c.set("reps", "R002", "Team__c", "Nonexistent Team")
    c.set("reps", "R003", "Max_Open_Leads__c", "-3")
    c.expect(canonical=[{"table": "reps", "key": "R003", "column": "capacity", "value": None}])
    return c


@case
def odd_history_and_touches() -> Case:
    c = Case(
        "odd_history_and_touches",
        "A stage the lifecycle does not know, a change without product group or author, a group "
        "nobody configured; a touch by carrier pigeon and one without rep or channel.",
    )
    history = c.rows("stage_history")
    history.append(["L001", "Analytics", "Zombie", "2026-11-10T10:00:00Z", "R000", ""])
    history.append(["L002", "", "SQL", "2026-11-10T10:00:00Z", "", "Timing"])
    history.append(["L003", "Hardware", "MQL", "2026-11-10T10:00:00Z", "R001", "???"])
    touches = c.rows("sales_touches")
    touches.append(["T010", "L001", "R001", "Carrier Pigeon", "2026-11-19T10:00:00Z", ""])
    touches.append(["T011", "L002", "", "", "2026-11-19T10:00:00Z", ""])
    return c


@case
def odd_opportunities() -> Case:
    c = Case(
        "odd_opportunities",
        "An opportunity closed before it was created with a negative amount, and one with "
        "nothing but an id and a date.",
    )
    rows = c.rows("opportunities")
    rows.append(["O003", "A001", "L001", "Analytics", "2026-11-10T10:00:00Z", "2026-01-01",
                 "Closed Won", "true", "true", "-500"])  # fmt: skip
    rows.append(["O004", "", "", "", "2026-11-10T10:00:00Z", "", "", "", "", ""])
    c.expect(
        canonical=[{"table": "opportunities", "key": "O003", "column": "amount", "value": None}]
    )
    return c


# --- config shapes -------------------------------------------------------------------------------


@case
def product_groups_from_data() -> Case:
    c = Case("product_groups_from_data", "product_groups left empty: taken from the data.")
    c.configure({"product_groups": []})
    return c


@case
def unknown_product_group() -> Case:
    c = Case(
        "unknown_product_group",
        "The only configured product group (Hardware) appears nowhere in the data and no team "
        "serves it: leads of named accounts go to the account owner, the rest overflow with "
        "no_team_matched.",
    )
    c.configure({"product_groups": ["Hardware"]})
    c.expect(assigned=2, overflow_reasons=["no_team_matched"])
    return c


@case
def stages_subset() -> Case:
    c = Case("stages_subset", "run.stages leaves out verify, assign and expire.")
    c.configure({"run": {"stages": ["validate", "train", "score", "rate", "report"]}})
    return c


@case
def only_leads_and_reps() -> Case:
    c = Case(
        "only_leads_and_reps",
        "The config maps only leads and reps: the other tables are empty, not missing.",
    )
    for table in ("accounts", "activities", "opportunities", "stage_history", "sales_touches"):
        del c.config["inputs"]["tables"][table]
    return c


@case
def no_reps_table() -> Case:
    c = Case("no_reps_table", "The config maps no reps table: everything verified overflows.")
    del c.config["inputs"]["tables"]["reps"]
    c.expect(assigned=0)
    return c


# --- routing and rating modes ---------------------------------------------------------------------


def _distribution(name: str, mode: str) -> Case:
    c = Case(
        name,
        f"Teams distribute {mode} over two nights: the second night reads the first one's "
        "balance memory.",
    )
    teams = deepcopy(BASE_CONFIG["assign"]["teams"])
    for team in teams:
        team["distribution"] = mode
    c.configure({"assign": {"teams": teams}})
    c.expect(setup=[{"pre_run": "config.yaml", "as_of": "2026-11-19"}])
    return c


@case
def load_balanced_two_nights() -> Case:
    return _distribution("load_balanced_two_nights", "load_balanced")


@case
def value_balanced_two_nights() -> Case:
    return _distribution("value_balanced_two_nights", "value_balanced")


@case
def account_mode() -> Case:
    c = Case(
        "account_mode",
        "One owner per lead and all verified leads of an account routed together.",
    )
    c.configure({"assign": {"account_mode": True, "owner_scope": "lead"}})
    return c


@case
def override_rules() -> Case:
    c = Case(
        "override_rules",
        "A live override rule (demo requests) and one past its review date: the expired rule "
        "stops applying and the night says so.",
    )
    c.configure(
        {
            "rate": {
                "overrides": [
                    {
                        "name": "demo-requests",
                        "owner": "Product marketing",
                        "review_by": "2026-12-31",
                        "conditions": [
                            {"kind": "activity", "types": ["Request Demo"], "within_days": 30}
                        ],
                        "action": "fast_track",
                        "sla_tier": "fast_track",
                    },
                    {
                        "name": "old-cto-rule",
                        "owner": "Sales ops",
                        "review_by": "2026-01-01",
                        "conditions": [{"kind": "field", "field": "title", "regex": "(?i)cto"}],
                        "action": "standard",
                    },
                ]
            }
        }
    )
    c.expect(message=["old-cto-rule", "review date"])
    return c
