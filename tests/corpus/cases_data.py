"""Corpus cases: keys and dates (see make_cases.py)."""

from __future__ import annotations

from base import LEAD_HEADER, Case, case

# --- keys ----------------------------------------------------------------------------------------


@case
def duplicate_lead_ids() -> Case:
    c = Case("duplicate_lead_ids", "L003 appears twice: the later row is rejected as a duplicate.")
    rows = c.rows("leads")
    dup = list(rows[2])
    dup[LEAD_HEADER.index("FirstName")] = "Wilhelmina-Two"
    rows.append(dup)
    c.expect(
        rejects={"leads": 1}, reject_rows={"leads": [12]}, message_rejects=["duplicate lead_id"]
    )
    return c


@case
def duplicate_rep_and_account_ids() -> Case:
    c = Case("duplicate_rep_and_account_ids", "A rep and an account listed twice.")
    c.rows("reps").append(list(c.rows("reps")[1]))
    c.rows("accounts").append(list(c.rows("accounts")[0]))
    c.expect(rejects={"reps": 1, "accounts": 1})
    return c


@case
def ids_reused_across_tables() -> Case:
    c = Case(
        "ids_reused_across_tables",
        "A lead id equals an account id and a rep id; ids of different tables never mix.",
    )
    c.set("leads", "L005", "Id", "A001")
    for row in c.rows("activities"):
        if row[2] == "L005":
            row[2] = "A001"
    c.set("leads", "L004", "Id", "R001")
    for row in c.rows("activities"):
        if row[2] == "L004":
            row[2] = "R001"
    return c


@case
def orphan_references() -> Case:
    c = Case(
        "orphan_references",
        "Activities, history, touches and opportunities of leads that "
        "do not exist; leads of accounts that do not exist; owners who are not reps.",
    )
    c.rows("activities").append(
        ["99999", "1", "L999", "2026-11-19T10:00:00Z", "Request Demo", "x", "Cloud", "c"]
    )
    c.rows("stage_history").append(["L999", "Cloud", "MQL", "2026-11-01T10:00:00Z", "R000", ""])
    c.rows("sales_touches").append(["T999", "L999", "R999", "Call", "2026-11-02T10:00:00Z", ""])
    c.rows("opportunities").append(
        [
            "O999",
            "A999",
            "L999",
            "Cloud",
            "2026-10-01T10:00:00Z",
            "",
            "Proposal",
            "false",
            "false",
            "1",
        ]
    )
    c.set("leads", "L004", "Account__c", "A999")
    c.set("leads", "L007", "OwnerId", "R999")
    return c


# --- dates ---------------------------------------------------------------------------------------


@case
def future_dates() -> Case:
    c = Case(
        "future_dates",
        "Leads created and activities dated after --as-of: kept, but the "
        "night judges only what it could have known.",
    )
    c.set("leads", "L005", "CreatedDate", "2027-01-01T10:00:00Z")
    c.rows("activities").append(
        ["99990", "104", "L004", "2026-12-24T10:00:00Z", "Request Demo", "x", "Analytics", "c"]
    )
    c.rows("stage_history").append(["L003", "Analytics", "SAL", "2026-12-01T10:00:00Z", "R001", ""])
    return c


@case
def dates_before_1970() -> Case:
    c = Case("dates_before_1970", "A CreatedDate in 1969 and an activity in 1900 are rejected.")
    c.set("leads", "L005", "CreatedDate", "1969-12-31T23:59:59Z")
    c.rows("activities")[0][3] = "1900-01-01"
    c.expect(rejects={"leads": 1, "activities": 1}, message_rejects=["before 1970"])
    return c


@case
def unparseable_dates() -> Case:
    c = Case(
        "unparseable_dates",
        "Dates no format reads: required ones reject the row, optional ones become empty.",
    )
    c.set("leads", "L005", "CreatedDate", "31/31/2026")
    c.set("leads", "L009", "ConvertedDate", "sometime in June")
    c.rows("activities")[1][3] = "not a date"
    c.set("reps", "R003", "Out_Of_Office_From__c", "2026-02-30")
    c.expect(
        rejects={"leads": 1, "activities": 1},
        canonical=[
            {"table": "leads", "key": "L009", "column": "converted_at", "value": None},
            {"table": "reps", "key": "R003", "column": "out_of_office_from", "value": None},
        ],
    )
    return c


@case
def timestamps_with_and_without_zones() -> Case:
    c = Case(
        "timestamps_with_and_without_zones",
        "Z, +02:00, +0000 and naive timestamps (naive "
        "ones are in the table's time zone) all land in UTC.",
    )
    c.configure({"inputs": {"tables": {"leads": {"timezone": "America/New_York"}}}})
    c.set("leads", "L001", "CreatedDate", "2026-09-01T10:00:00Z")
    c.set("leads", "L002", "CreatedDate", "2026-09-15 10:30:00+02:00")
    c.set("leads", "L003", "CreatedDate", "2026-10-01T12:00:00.000+0000")
    c.set("leads", "L004", "CreatedDate", "2026-10-10 12:45:00")
    c.set("leads", "L005", "CreatedDate", "10/20/2026 9:15 AM")
    c.expect(
        canonical=[
            {
                "table": "leads",
                "key": "L002",
                "column": "created_at",
                "value": "2026-09-15 08:30:00+00:00",
            },
            {
                "table": "leads",
                "key": "L004",
                "column": "created_at",
                "value": "2026-10-10 16:45:00+00:00",
            },
            {
                "table": "leads",
                "key": "L005",
                "column": "created_at",
                "value": "2026-10-20 13:15:00+00:00",
            },
        ]
    )
    return c


@case
def dst_change_day() -> Case:
    c = Case(
        "dst_change_day",
        "The night US clocks go back (2026-11-01), reps and naive "
        "timestamps in America/New_York; a time that happens twice takes the first.",
    )
    c.configure({"inputs": {"timezone": "America/New_York"}})
    c.expect(as_of="2026-11-01")
    c.set("leads", "L004", "CreatedDate", "2026-10-10 12:45:00")
    c.rows("activities").append(
        ["99991", "102", "L002", "2026-11-01 01:30:00", "Request Demo", "x", "Cloud", "c"]
    )
    c.expect(
        canonical=[
            {
                "table": "leads",
                "key": "L004",
                "column": "created_at",
                "value": "2026-10-10 16:45:00+00:00",
            },
        ]
    )
    return c


@case
def dst_gap_time() -> Case:
    c = Case(
        "dst_gap_time",
        "A naive time in the hour skipped when clocks go forward "
        "(2026-03-08 02:30 New York) does not exist: its row is rejected, saying why.",
    )
    c.configure({"inputs": {"timezone": "America/New_York"}})
    c.expect(as_of="2026-03-09")
    for lead in ("L001", "L002", "L003", "L004", "L005"):
        c.set("leads", lead, "CreatedDate", "2026-01-15 09:00:00")
    c.set("leads", "L005", "CreatedDate", "2026-03-08 02:30:00")
    c.expect(rejects={"leads": 1}, message_rejects=["time zone"])
    return c


@case
def as_of_before_all_data() -> Case:
    c = Case(
        "as_of_before_all_data",
        "--as-of 2020-01-01, before every lead was created and every "
        "activity happened: leads in the export are still scored (fit only: no engagement "
        "from the future), so none becomes an MQL; nothing is lost or invented.",
    )
    c.expect(as_of="2020-01-01", mql=0)
    return c
