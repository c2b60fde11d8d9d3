"""The tiny, clean exports and the config every corpus case starts from, and the Case builder.

Shaped like the sample's Salesforce + Marketo exports (same headers, so the same column mapping),
with a handful of rows per table: too few labels to train, so `train` refuses quickly and the
points model scores. Names, e-mails and phones are made up and distinctive (the PII test looks
for them in the logs).
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable
from copy import deepcopy
from pathlib import Path
from typing import Any

import yaml

# fmt: off
# ------------------------------------------------------------------------------ base exports

LEAD_HEADER = [
    "Id", "FirstName", "LastName", "Email", "Phone", "Title", "Company", "Industry",
    "NumberOfEmployees", "AnnualRevenue", "Country", "State", "LeadSource", "CreatedDate",
    "Lifecycle_Stage__c", "OwnerId", "HasOptedOutOfEmail", "DoNotCall", "GDPR_Consent__c",
    "Account__c", "IsConverted", "ConvertedDate", "Current_Occupation__c", "Budget__c",
    "Purchase_Timeframe__c",
]


def _lead(
    lead_id: str, first: str, last: str, email: str, phone: str, title: str, company: str,
    industry: str, employees: str, country: str, created: str, account: str = "",
    stage: str = "Inquiry", owner: str = "", consent: str = "Yes", timeframe: str = "0-3 months",
    state: str = "",
) -> dict[str, str]:
    return {
        "Id": lead_id, "FirstName": first, "LastName": last, "Email": email, "Phone": phone,
        "Title": title, "Company": company, "Industry": industry, "NumberOfEmployees": employees,
        "AnnualRevenue": "", "Country": country, "State": state, "LeadSource": "Web",
        "CreatedDate": created, "Lifecycle_Stage__c": stage, "OwnerId": owner,
        "HasOptedOutOfEmail": "false", "DoNotCall": "false", "GDPR_Consent__c": consent,
        "Account__c": account, "IsConverted": "false", "ConvertedDate": "",
        "Current_Occupation__c": "Professional", "Budget__c": "Yes",
        "Purchase_Timeframe__c": timeframe,
    }


# Names, e-mails and phones are made up and distinctive, so the PII test can look for them.
BASE_LEADS = [
    _lead("L001", "Ottoline", "Quarrington", "ottoline.quarrington@northwind-analytics.com",
          "+1 212 555 0101", "VP Data", "Northwind Analytics", "Technology", "1200",
          "United States", "2026-09-01T10:00:00Z", account="A001", state="NY"),
    _lead("L002", "Barnaby", "Featherstonehaugh", "b.featherstonehaugh@kestrel-mb.de",
          "+49 30 901820", "Director of IT", "Kestrel Maschinenbau GmbH", "Manufacturing", "300",
          "Germany", "2026-09-15T08:30:00Z", account="A002"),
    _lead("L003", "Wilhelmina", "Throckmorton", "w.throckmorton@bluefin-retail.co.uk",
          "+44 20 7946 0958", "Head of Analytics", "Bluefin Retail Ltd", "Retail", "80",
          "United Kingdom", "2026-10-01T12:00:00Z", account="A003"),
    _lead("L004", "Cornelius", "Vandersloot", "cornelius@vandersloot-energy.com",
          "+1 415 555 0144", "CTO", "Vandersloot Energy", "Energy", "2500", "United States",
          "2026-10-10T16:45:00Z", state="CA"),
    _lead("L005", "Perpetua", "Ravenscroft", "p.ravenscroft@ravenscroft-media.ca",
          "+1 604 555 0177", "Marketing Manager", "Ravenscroft Media", "Media", "45", "Canada",
          "2026-10-20T09:15:00Z"),
    _lead("L006", "Evander", "Mowbray", "evander.mowbray@gmail.com", "", "Student",
          "Self", "Education", "", "United States", "2026-11-01T11:00:00Z",
          timeframe="None"),
    _lead("L007", "Seraphina", "Woolcombe", "s.woolcombe@northwind-analytics.com",
          "+1 212 555 0188", "Data Engineer", "Northwind Analytics", "Technology", "1200",
          "United States", "2026-08-01T10:00:00Z", account="A001", stage="SAL", owner="R001"),
    _lead("L008", "Lysander", "Pettigrew", "lysander@pettigrew-finance.fr",
          "+33 1 70 18 99 00", "CFO", "Pettigrew Finance SA", "Finance", "900", "France",
          "2026-11-10T14:00:00Z", consent=""),
    _lead("L009", "Octavia", "Blennerhassett", "o.blennerhassett@kestrel-mb.de",
          "+49 30 901821", "Analyst", "Kestrel Maschinenbau GmbH", "Manufacturing", "300",
          "Germany", "2025-03-01T10:00:00Z", account="A002", stage="Won"),
    _lead("L010", "Thaddeus", "Brocklehurst", "thaddeus@brocklehurst-health.com",
          "+1 617 555 0123", "Director of Operations", "Brocklehurst Health", "Healthcare",
          "5000", "United States", "2026-07-01T10:00:00Z", state="MA"),
]

ACCOUNT_HEADER = [
    "Id", "Name", "Website", "Industry", "NumberOfEmployees", "AnnualRevenue", "BillingCountry",
    "OwnerId", "Named_Account__c", "Target_Account__c",
]
BASE_ACCOUNTS = [
    ["A001", "Northwind Analytics", "northwind-analytics.com", "Technology", "1200", "250000000",
     "United States", "R001", "true", "true"],
    ["A002", "Kestrel Maschinenbau GmbH", "kestrel-mb.de", "Manufacturing", "300", "40000000",
     "Germany", "R003", "false", "false"],
    ["A003", "Bluefin Retail Ltd", "bluefin-retail.co.uk", "Retail", "80", "", "United Kingdom",
     "", "false", "false"],
]

ACTIVITY_HEADER = [
    "marketoGUID", "leadId", "sfdcLeadId", "activityDate", "activityTypeName",
    "primaryAttributeValue", "productGroup", "campaignName",
]


def _activities() -> list[list[str]]:
    rows = []
    plan = [
        ("L001", "2026-11-18T15:00:00Z", "Request Demo", "Analytics"),
        ("L001", "2026-11-17T15:00:00Z", "Visit Pricing Page", "Analytics"),
        ("L001", "2026-11-10T15:00:00Z", "Attend Webinar", "Analytics"),
        ("L002", "2026-11-19T08:00:00Z", "Request Demo", "Cloud"),
        ("L002", "2026-11-12T08:00:00Z", "Visit Pricing Page", "Cloud"),
        ("L002", "2026-11-02T08:00:00Z", "Download Content", "Cloud"),
        ("L003", "2026-11-15T12:00:00Z", "Attend Webinar", "Analytics"),
        ("L003", "2026-11-16T12:00:00Z", "Fill Out Form", "Analytics"),
        ("L004", "2026-11-19T20:00:00Z", "Request Demo", "Cloud"),
        ("L004", "2026-11-18T20:00:00Z", "Visit Pricing Page", "Cloud"),
        ("L004", "2026-11-11T20:00:00Z", "Visit Pricing Page", "Cloud"),
        ("L005", "2026-11-05T09:00:00Z", "Open Email", ""),
        ("L005", "2026-11-06T09:00:00Z", "Visit Webpage", ""),
        ("L006", "2026-11-14T11:00:00Z", "Download Content", "Analytics"),
        ("L007", "2026-11-13T10:00:00Z", "Visit Pricing Page", "Analytics"),
        ("L008", "2026-11-19T14:00:00Z", "Request Demo", "Analytics"),
        ("L008", "2026-11-18T14:00:00Z", "Fill Out Form", "Analytics"),
        ("L009", "2025-04-01T10:00:00Z", "Request Demo", "Analytics"),
        ("L010", "2026-11-16T10:00:00Z", "Request Demo", "Cloud"),
        ("L010", "2026-11-09T10:00:00Z", "Attend Webinar", "Cloud"),
    ]
    for i, (lead, when, kind, group) in enumerate(plan):
        rows.append([str(90000 + i), str(100 + int(lead[1:])), lead, when, kind,
                     f"{group or 'Brand'} asset", group, f"2026-Q4 {group or 'Brand'}"])
    return rows


BASE_ACTIVITIES = _activities()

OPPORTUNITY_HEADER = [
    "Id", "AccountId", "Primary_Lead__c", "Product_Group__c", "CreatedDate", "CloseDate",
    "StageName", "IsWon", "IsClosed", "Amount",
]
BASE_OPPORTUNITIES = [
    ["O001", "A002", "L009", "Analytics", "2025-04-10T10:00:00Z", "2025-06-30", "Closed Won",
     "true", "true", "48000"],
    ["O002", "", "L010", "Analytics", "2026-10-01T10:00:00Z", "", "Proposal", "false", "false",
     "30000"],
]

REP_HEADER = [
    "Id", "Name", "Team__c", "UserRole", "Product_Groups__c", "Territories__c",
    "Max_Open_Leads__c", "IsActive", "Out_Of_Office_From__c", "Out_Of_Office_To__c",
    "TimeZoneSidKey", "Working_Hours__c", "ManagerId",
]
BASE_REPS = [
    ["R000", "Griselda Ashcombe", "Analytics NA", "Manager", "Analytics;Cloud", "NA", "10",
     "true", "", "", "America/New_York", "09:00-17:00", ""],
    ["R001", "Ambrose Kittridge", "Analytics NA", "AE", "Analytics;Cloud", "NA", "10", "true",
     "", "", "America/New_York", "09:00-17:00", "R000"],
    ["R002", "Clementine Oakhurst", "Cloud NA", "AE", "Cloud;Analytics", "NA", "10", "true",
     "", "", "America/Chicago", "08:00-16:00", "R000"],
    ["R003", "Ignatius Pembury", "Analytics EMEA", "AE", "Analytics;Cloud", "EMEA", "10", "true",
     "", "", "Europe/London", "09:00-17:00", "R000"],
    ["R004", "Philippa Dunstable", "Cloud EMEA", "SDR", "Cloud;Analytics", "EMEA", "10", "true",
     "", "", "Europe/Berlin", "09:00-17:00", "R000"],
]

HISTORY_HEADER = [
    "LeadId", "Product_Group__c", "Stage__c", "CreatedDate", "CreatedById", "Reason__c",
]
BASE_HISTORY = [
    ["L001", "Analytics", "Inquiry", "2026-09-01T10:00:00Z", "R000", ""],
    ["L002", "Cloud", "Inquiry", "2026-09-15T08:30:00Z", "R000", ""],
    ["L003", "Analytics", "Inquiry", "2026-10-01T12:00:00Z", "R000", ""],
    ["L004", "Cloud", "Inquiry", "2026-10-10T16:45:00Z", "R000", ""],
    ["L007", "Analytics", "Inquiry", "2026-08-01T10:00:00Z", "R000", ""],
    ["L007", "Analytics", "MQL", "2026-11-02T10:00:00Z", "R000", ""],
    ["L007", "Analytics", "SAL", "2026-11-03T10:00:00Z", "R001", ""],
    ["L009", "Analytics", "Inquiry", "2025-03-01T10:00:00Z", "R000", ""],
    ["L009", "Analytics", "MQL", "2025-04-02T10:00:00Z", "R000", ""],
    ["L009", "Analytics", "SAL", "2025-04-03T10:00:00Z", "R003", ""],
    ["L009", "Analytics", "Won", "2025-06-30T10:00:00Z", "R003", ""],
]

TOUCH_HEADER = ["Id", "WhoId", "OwnerId", "Type", "CreatedDate", "CallDisposition"]
BASE_TOUCHES = [
    ["T001", "L007", "R001", "Call", "2026-11-03T15:00:00Z", "No Answer"],
    ["T002", "L007", "R001", "Email", "2026-11-04T15:00:00Z", ""],
    ["T003", "L009", "R003", "Call", "2025-04-04T10:00:00Z", "Connected"],
]

FILES = {
    "leads": "leads.csv",
    "accounts": "accounts.csv",
    "activities": "activities.csv",
    "opportunities": "opportunities.csv",
    "reps": "users.csv",
    "stage_history": "lead_history.csv",
    "sales_touches": "tasks.csv",
}


def base_tables() -> dict[str, tuple[list[str], list[list[str]]]]:
    """Header and rows of every export, as text (a case edits a deep copy)."""
    return deepcopy({
        "leads": (LEAD_HEADER, [[r[h] for h in LEAD_HEADER] for r in BASE_LEADS]),
        "accounts": (ACCOUNT_HEADER, BASE_ACCOUNTS),
        "activities": (ACTIVITY_HEADER, BASE_ACTIVITIES),
        "opportunities": (OPPORTUNITY_HEADER, BASE_OPPORTUNITIES),
        "reps": (REP_HEADER, BASE_REPS),
        "stage_history": (HISTORY_HEADER, BASE_HISTORY),
        "sales_touches": (TOUCH_HEADER, BASE_TOUCHES),
    })


def csv_text(header: list[str], rows: list[list[str]], newline: str = "\n") -> str:
    """RFC 4180 text: quotes only where needed, one line ending throughout."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


# ------------------------------------------------------------------------------ base config

MAPPINGS = {
    "leads": {
        "lead_id": "Id", "email": "Email", "first_name": "FirstName", "last_name": "LastName",
        "title": "Title", "company": "Company", "account_id": "Account__c", "country": "Country",
        "state": "State", "phone": "Phone", "industry": "Industry",
        "employees": "NumberOfEmployees", "annual_revenue": "AnnualRevenue",
        "lead_source": "LeadSource", "created_at": "CreatedDate", "stage": "Lifecycle_Stage__c",
        "owner_id": "OwnerId", "do_not_contact": "DoNotCall",
        "unsubscribed": "HasOptedOutOfEmail", "consent": "GDPR_Consent__c",
        "is_converted": "IsConverted", "converted_at": "ConvertedDate",
    },
    "accounts": {
        "account_id": "Id", "name": "Name", "domain": "Website", "industry": "Industry",
        "employees": "NumberOfEmployees", "annual_revenue": "AnnualRevenue",
        "country": "BillingCountry", "owner_id": "OwnerId", "named_account": "Named_Account__c",
        "target_account": "Target_Account__c",
    },
    "activities": {
        "lead_id": "sfdcLeadId", "activity_type": "activityTypeName", "occurred_at": "activityDate",
        "asset_id": "primaryAttributeValue", "product_group": "productGroup",
        "campaign": "campaignName",
    },
    "opportunities": {
        "opportunity_id": "Id", "account_id": "AccountId", "lead_id": "Primary_Lead__c",
        "product_group": "Product_Group__c", "created_at": "CreatedDate", "closed_at": "CloseDate",
        "stage": "StageName", "is_won": "IsWon", "amount": "Amount",
    },
    "reps": {
        "rep_id": "Id", "name": "Name", "team": "Team__c", "role": "UserRole",
        "product_groups": "Product_Groups__c", "territories": "Territories__c",
        "capacity": "Max_Open_Leads__c", "active": "IsActive",
        "out_of_office_from": "Out_Of_Office_From__c", "out_of_office_to": "Out_Of_Office_To__c",
        "time_zone": "TimeZoneSidKey", "working_hours": "Working_Hours__c",
        "manager_id": "ManagerId",
    },
    "stage_history": {
        "lead_id": "LeadId", "product_group": "Product_Group__c", "stage": "Stage__c",
        "changed_at": "CreatedDate", "changed_by": "CreatedById", "reason": "Reason__c",
    },
    "sales_touches": {
        "lead_id": "WhoId", "rep_id": "OwnerId", "channel": "Type", "occurred_at": "CreatedDate",
        "outcome": "CallDisposition",
    },
}


def _team(name: str, group: str, region: str, zone: str, other: str) -> dict[str, Any]:
    return {
        "name": name, "product_groups": [group], "regions": [region],
        "distribution": "round_robin", "match_rep_territory": True,
        "match_rep_product_group": True, "time_zone": zone, "overflow_to": [other],
    }


BASE_CONFIG: dict[str, Any] = {
    "version": 1,
    "product_groups": ["Analytics", "Cloud"],
    "inputs": {
        "dir": "inputs",
        "timezone": "UTC",
        # A handful of rows per table: one bad row is already 10 %; cases that test the
        # threshold itself set their own.
        "max_reject_share": 0.5,
        "tables": {
            name: {"path": FILES[name], "columns": MAPPINGS[name]}
            | ({"extra_columns": {
                "occupation": "Current_Occupation__c", "budget": "Budget__c",
                "purchase_timeframe": "Purchase_Timeframe__c"}} if name == "leads" else {})
            for name in FILES
        },
    },
    "output": {"dir": "out"},
    "train": {
        # Few snapshots keep feature building quick; the guards refuse a handful of leads.
        "snapshots": {"count": 3, "every_days": 30, "holdout": 1},
        "features": {"windows_days": [7, 30], "lookback_days": 365},
    },
    "rate": {
        "cutoffs": {"method": "fixed", "fit": [60, 40, 20], "engagement": [50, 30, 10]},
        "hysteresis": {"margin": 5.0, "propensity_margin": 0.01, "min_stay_days": 7},
        "overrides": [],
    },
    "verify": {"required_fields": {"fast_track": ["email", "country", "company"],
                                   "standard": ["email", "country"]}},
    "assign": {
        "teams": [
            _team("Analytics NA", "Analytics", "NA", "America/New_York", "Cloud NA"),
            _team("Cloud NA", "Cloud", "NA", "America/New_York", "Analytics NA"),
            _team("Analytics EMEA", "Analytics", "EMEA", "Europe/London", "Cloud EMEA"),
            _team("Cloud EMEA", "Cloud", "EMEA", "Europe/London", "Analytics EMEA"),
        ],
        "excluded_roles": ["Manager"],
        "holiday_countries": {"America/New_York": "US", "Europe/London": "GB"},
    },
    "points": {
        "default": {
            "demographic": [
                {"feature": "seniority", "weight": 20,
                 "choices": {"C-level": 10, "VP": 10, "Director": 8, "Manager": 5,
                             "Individual contributor": 2, "Student": -10}, "missing": 0},
                {"feature": "company_size", "weight": 15,
                 "choices": {"1-49": 0, "50-199": 4, "200-999": 7, "1,000-4,999": 10,
                             "5,000+": 10}},
                {"feature": "email_domain_type", "weight": 15,
                 "choices": {"corporate": 10, "free": -5, "invalid": -10}, "missing": -5},
            ],
            "behavioural": [
                {"name": "Requested a demo", "activity_types": ["Request Demo"], "weight": 25,
                 "window_days": 30, "at_least": {1: 10}},
                {"name": "Visited pricing", "activity_types": ["Visit Pricing Page"], "weight": 10,
                 "window_days": 30, "at_least": {1: 10}},
                {"name": "Webinars and forms",
                 "activity_types": ["Attend Webinar", "Fill Out Form", "Download Content"],
                 "weight": 15, "window_days": 90, "at_least": {1: 10}},
            ],
        }
    },
}


def merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `patch` into a copy of `base` (None deletes a key)."""
    out = deepcopy(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = deepcopy(value)
    return out
# fmt: on


class Case:
    """A case being built: its tables (text), raw files, config and expectations."""

    def __init__(self, name: str, description: str) -> None:
        self.name = name
        self.tables = base_tables()
        self.raw: dict[str, bytes | None] = {}  # file name -> bytes written instead (None: omit)
        self.dirs: dict[str, dict[str, bytes]] = {}  # a directory where a file is expected
        self.config: dict[str, Any] = deepcopy(BASE_CONFIG)
        self.extra_configs: dict[str, dict[str, Any] | str] = {}
        self.expected: dict[str, Any] = {"description": description, "exit_code": 0}
        self.generated_inputs = False  # the runner writes the exports (setup: sample)

    def rows(self, table: str) -> list[list[str]]:
        return self.tables[table][1]

    def header(self, table: str) -> list[str]:
        return self.tables[table][0]

    def set(self, table: str, key: str, column: str, value: str) -> None:
        """Set one cell of the row whose first column is `key`."""
        header = self.header(table)
        for row in self.rows(table):
            if row[0] == key:
                row[header.index(column)] = value
                return
        raise KeyError(f"{table}: no row {key}")

    def set_all(self, table: str, column: str, value: str) -> None:
        index = self.header(table).index(column)
        for row in self.rows(table):
            row[index] = value

    def text(self, table: str, newline: str = "\n") -> str:
        header, rows = self.tables[table]
        return csv_text(header, rows, newline)

    def configure(self, patch: dict[str, Any]) -> None:
        self.config = merge(self.config, patch)

    def expect(self, **values: Any) -> None:
        self.expected.update(values)

    def write(self, root: Path) -> None:
        folder = root / self.name
        if folder.exists():
            shutil.rmtree(folder)
        inputs = folder / "inputs"
        folder.mkdir(parents=True)
        if not self.generated_inputs:
            inputs.mkdir()
        for table, file_name in FILES.items():
            if self.generated_inputs:
                break
            if file_name in self.raw:
                content = self.raw[file_name]
                if content is not None:
                    (inputs / file_name).write_bytes(content)
                continue
            if file_name in self.dirs:
                continue
            (inputs / file_name).write_bytes(self.text(table).encode("utf-8"))
        for file_name, content in self.raw.items():  # files that are not one of the tables
            if file_name not in FILES.values() and content is not None:
                (inputs / file_name).write_bytes(content)
        for dir_name, files in self.dirs.items():
            (inputs / dir_name).mkdir()
            for name, content in files.items():
                (inputs / dir_name / name).write_bytes(content)
        _dump(self.config, folder / "config.yaml")
        for name, extra in self.extra_configs.items():
            if isinstance(extra, str):
                (folder / name).write_text(extra, encoding="utf-8")
            else:
                _dump(extra, folder / name)
        _dump(self.expected, folder / "expected.yaml")


def _dump(data: dict[str, Any], path: Path) -> None:
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(text, encoding="utf-8")


CASES: list[Callable[[], Case]] = []


def case(func: Callable[[], Case]) -> Callable[[], Case]:
    """Register a case builder (make_cases.py writes every registered case)."""
    CASES.append(func)
    return func
