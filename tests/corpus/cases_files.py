"""Corpus cases: columns, values, encodings and CSV structure (see make_cases.py)."""

from __future__ import annotations

import csv
import gzip
import io
import zipfile

from base import Case, case

# --- the clean night -----------------------------------------------------------------------------


@case
def baseline() -> Case:
    c = Case("baseline", "The clean base exports: every stage runs, nothing is rejected.")
    return c


# --- columns -------------------------------------------------------------------------------------


@case
def missing_required_column() -> Case:
    c = Case("missing_required_column", "leads.csv has no CreatedDate column at all.")
    header, rows = c.tables["leads"]
    i = header.index("CreatedDate")
    c.tables["leads"] = (header[:i] + header[i + 1 :], [r[:i] + r[i + 1 :] for r in rows])
    c.expect(exit_code=3, message=["leads.csv", "created_at", "CreatedDate"])
    return c


@case
def renamed_required_column() -> Case:
    c = Case("renamed_required_column", "The export renamed CreatedDate to 'Created Date'.")
    header = c.header("leads")
    header[header.index("CreatedDate")] = "Created Date"
    c.expect(
        exit_code=3,
        message=["leads", "created_at", "'Created Date'", "inputs.tables.leads.columns.created_at"],
    )
    return c


@case
def header_case_changed() -> Case:
    c = Case("header_case_changed", "Headers in other letter case still map (EMAIL, createddate).")
    header = c.header("leads")
    header[header.index("CreatedDate")] = "createddate"
    header[header.index("Email")] = "EMAIL"
    c.expect(
        canonical=[
            {
                "table": "leads",
                "key": "L001",
                "column": "email",
                "value": "ottoline.quarrington@northwind-analytics.com",
            }
        ]
    )
    return c


@case
def missing_optional_column() -> Case:
    c = Case("missing_optional_column", "No Phone column: phones are empty, the night goes on.")
    header, rows = c.tables["leads"]
    i = header.index("Phone")
    c.tables["leads"] = (header[:i] + header[i + 1 :], [r[:i] + r[i + 1 :] for r in rows])
    c.expect(canonical=[{"table": "leads", "key": "L001", "column": "phone", "value": None}])
    return c


@case
def missing_extra_column() -> Case:
    c = Case("missing_extra_column", "An extra column named in the config is not in the export.")
    header = c.header("leads")
    header[header.index("Budget__c")] = "BudgetX"
    c.expect(exit_code=3, message=["budget", "Budget__c", "extra_columns"])
    return c


@case
def duplicate_header() -> Case:
    c = Case("duplicate_header", "Two columns are both called Email.")
    header, rows = c.tables["leads"]
    header.append("Email")
    for row in rows:
        row.append("other@example.org")
    c.expect(exit_code=3, message=["leads.csv", "Email"])
    return c


@case
def wrong_delimiter() -> Case:
    c = Case("wrong_delimiter", "leads.csv is ';'-separated but the config says ','.")
    c.raw["leads.csv"] = c.text("leads").replace(",", ";").encode()
    c.expect(exit_code=3, message=["leads", "required column", "delimiter"])
    return c


@case
def semicolon_delimiter_configured() -> Case:
    c = Case("semicolon_delimiter_configured", "A ';'-separated export with delimiter ';' set.")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(c.header("leads"))
    writer.writerows(c.rows("leads"))
    c.raw["leads.csv"] = buffer.getvalue().encode()
    c.configure({"inputs": {"tables": {"leads": {"delimiter": ";"}}}})
    return c


# --- values --------------------------------------------------------------------------------------


@case
def wrong_types() -> Case:
    c = Case(
        "wrong_types",
        "Text in number, yes/no and date columns: optional ones become empty, "
        "a required date rejects its row.",
    )
    c.set("leads", "L003", "NumberOfEmployees", "lots")
    c.set("leads", "L004", "AnnualRevenue", "n/a")
    c.set("leads", "L005", "IsConverted", "maybe")
    c.set("leads", "L006", "CreatedDate", "yesterday")
    c.set("reps", "R002", "Max_Open_Leads__c", "ten")
    c.expect(
        rejects={"leads": 1},
        canonical=[
            {"table": "leads", "key": "L003", "column": "employees", "value": None},
            {"table": "reps", "key": "R002", "column": "capacity", "value": None},
        ],
    )
    return c


@case
def blank_required_ids() -> Case:
    c = Case("blank_required_ids", "Blank and whitespace-only ids are rejected, not loaded as ''.")
    c.set("leads", "L005", "Id", "   ")
    c.rows("activities")[0][2] = ""
    c.expect(rejects={"leads": 1, "activities": 1})
    return c


@case
def negative_and_absurd_numbers() -> Case:
    c = Case("negative_and_absurd_numbers", "Employees -5 and 99 billion, revenue -1: set empty.")
    c.set("leads", "L001", "NumberOfEmployees", "-5")
    c.set("leads", "L002", "NumberOfEmployees", "99000000000")
    c.set("leads", "L003", "AnnualRevenue", "-1")
    c.set("leads", "L004", "NumberOfEmployees", "1e400")
    c.expect(
        canonical=[
            {"table": "leads", "key": "L001", "column": "employees", "value": None},
            {"table": "leads", "key": "L002", "column": "employees", "value": None},
            {"table": "leads", "key": "L003", "column": "annual_revenue", "value": None},
            {"table": "leads", "key": "L004", "column": "employees", "value": None},
        ]
    )
    return c


@case
def boolean_spellings() -> Case:
    c = Case("boolean_spellings", "Yes/NO/1/x are read; 'maybe' becomes empty.")
    c.set("leads", "L001", "DoNotCall", "NO")
    c.set("leads", "L002", "DoNotCall", "Yes")
    c.set("leads", "L003", "DoNotCall", "maybe")
    c.set("leads", "L004", "HasOptedOutOfEmail", "1")
    c.expect(
        canonical=[
            {"table": "leads", "key": "L001", "column": "do_not_contact", "value": False},
            {"table": "leads", "key": "L002", "column": "do_not_contact", "value": True},
            {"table": "leads", "key": "L003", "column": "do_not_contact", "value": None},
            {"table": "leads", "key": "L004", "column": "unsubscribed", "value": True},
        ]
    )
    return c


@case
def emoji_and_rtl_names() -> Case:
    c = Case("emoji_and_rtl_names", "Emoji, Arabic and Hebrew names and companies pass through.")
    c.set("leads", "L001", "FirstName", "Zoë 😀")
    c.set("leads", "L002", "FirstName", "مريم")
    c.set("leads", "L002", "LastName", "الحسيني")
    c.set("leads", "L003", "LastName", "\u200fכהן\u200f")
    c.set("leads", "L004", "Company", "🚀 Rocket Labs")
    c.set("accounts", "A003", "Name", "שׁוּק Bluefin")
    c.expect(
        canonical=[
            {"table": "leads", "key": "L002", "column": "first_name", "value": "مريم"},
            {"table": "leads", "key": "L004", "column": "company", "value": "🚀 Rocket Labs"},
        ]
    )
    return c


@case
def formula_injection() -> Case:
    c = Case("formula_injection", "Cells starting with = + - @ are data; rejects CSV escapes them.")
    c.set("leads", "L001", "Company", '=HYPERLINK("http://evil","x")')
    c.set("leads", "L002", "Title", "@SUM(A1)")
    c.set("leads", "L003", "CreatedDate", "=NOW()")
    c.expect(
        rejects={"leads": 1},
        canonical=[
            {
                "table": "leads",
                "key": "L001",
                "column": "company",
                "value": '=HYPERLINK("http://evil","x")',
            }
        ],
    )
    return c


@case
def nul_bytes() -> Case:
    c = Case("nul_bytes", "A NUL byte inside a field does not stop the night.")
    text = c.text("leads").replace("Vandersloot Energy", "Vanders\x00loot Energy")
    c.raw["leads.csv"] = text.encode()
    return c


# --- encodings and CSV structure ----------------------------------------------------------------


@case
def utf8_bom() -> Case:
    c = Case("utf8_bom", "leads.csv starts with a UTF-8 byte-order mark (Excel 'CSV UTF-8').")
    c.set("leads", "L002", "LastName", "Müller")
    c.raw["leads.csv"] = b"\xef\xbb\xbf" + c.text("leads").encode("utf-8")
    c.expect(
        canonical=[
            {"table": "leads", "key": "L001", "column": "lead_id", "value": "L001"},
            {"table": "leads", "key": "L002", "column": "last_name", "value": "Müller"},
        ]
    )
    return c


@case
def cp1252() -> Case:
    c = Case("cp1252", "leads.csv in Windows-1252 (Excel 'CSV'), with ü, é and €.")
    c.set("leads", "L002", "LastName", "Müller")
    c.set("leads", "L008", "Company", "Société Générale € Fonds")
    c.raw["leads.csv"] = c.text("leads").encode("cp1252")
    c.expect(
        canonical=[
            {"table": "leads", "key": "L002", "column": "last_name", "value": "Müller"},
            {
                "table": "leads",
                "key": "L008",
                "column": "company",
                "value": "Société Générale € Fonds",
            },
        ]
    )
    return c


@case
def mixed_line_endings() -> Case:
    c = Case("mixed_line_endings", "CRLF, LF and a missing final newline in one file.")
    lines = c.text("leads", newline="\n").split("\n")
    text = "".join(line + ("\r\n" if i % 2 else "\n") for i, line in enumerate(lines[:-1]))
    c.raw["leads.csv"] = text.rstrip("\r\n").encode()
    c.raw["activities.csv"] = c.text("activities", newline="\r\n").encode()
    return c


@case
def ragged_rows() -> Case:
    c = Case("ragged_rows", "Rows with too many and too few fields go to rejects with their row.")
    header, rows = c.tables["leads"]
    rows[2] = rows[2] + ["surplus"]  # L003, file row 4
    rows[5] = rows[5][:10]  # L006, file row 7
    c.expect(
        rejects={"leads": 2},
        reject_rows={"leads": [4, 7]},
        message_rejects=["malformed CSV record"],
    )
    return c


@case
def embedded_quotes_and_newlines() -> Case:
    c = Case(
        "embedded_quotes_and_newlines",
        "Quoted fields with quotes, commas and line breaks; "
        "row numbers of later rows still match the file's records.",
    )
    c.set("leads", "L001", "Company", 'Northwind "The Analytics" Co, Inc')
    c.set("leads", "L002", "Title", "Director of IT\nand Operations")
    c.set("leads", "L003", "Title", "Head of\r\nAnalytics")
    c.set("leads", "L005", "CreatedDate", "")  # rejected: its row number must be its record's
    c.expect(
        rejects={"leads": 1},
        reject_rows={"leads": [6]},
        canonical=[
            {
                "table": "leads",
                "key": "L001",
                "column": "company",
                "value": 'Northwind "The Analytics" Co, Inc',
            },
            {
                "table": "leads",
                "key": "L002",
                "column": "title",
                "value": "Director of IT\nand Operations",
            },
        ],
    )
    return c


@case
def ragged_after_multiline() -> Case:
    c = Case(
        "ragged_after_multiline",
        "A ragged row after a field with a line break: the reject "
        "names the record's row, and later rows keep theirs.",
    )
    header, rows = c.tables["leads"]
    c.set("leads", "L002", "Title", "Director\nof IT")
    rows[3] = rows[3] + ["surplus"]  # L004, record 5
    rows[5][header.index("CreatedDate")] = ""  # L006, record 7
    c.expect(rejects={"leads": 2}, reject_rows={"leads": [5, 7]})
    return c


@case
def trailing_unnamed_columns() -> Case:
    c = Case(
        "trailing_unnamed_columns",
        "Every line ends with two extra commas (a spreadsheet's empty columns): the unnamed "
        "columns are ignored.",
    )
    header, rows = c.tables["leads"]
    header.extend(["", ""])
    for row in rows:
        row.extend(["", ""])
    return c


@case
def spaces_after_commas() -> Case:
    c = Case(
        "spaces_after_commas",
        "A hand-made export with ', ' between headers (' Email'): headers match regardless.",
    )
    c.raw["leads.csv"] = c.text("leads").replace(",", ", ", len(c.header("leads")) - 1).encode()
    c.expect(
        canonical=[
            {"table": "leads", "key": "L001", "column": "created_at",
             "value": "2026-09-01 10:00:00+00:00"},
            {"table": "leads", "key": "L001", "column": "occupation", "value": "Professional"},
        ]
    )  # fmt: skip
    return c


@case
def utf16() -> Case:
    c = Case("utf16", "leads.csv saved as UTF-16 with a byte-order mark (Excel 'Unicode Text').")
    c.set("leads", "L002", "LastName", "Müller")
    c.raw["leads.csv"] = c.text("leads").encode("utf-16")
    c.expect(
        canonical=[{"table": "leads", "key": "L002", "column": "last_name", "value": "Müller"}]
    )
    return c


@case
def workbook_instead_of_csv() -> Case:
    c = Case("workbook_instead_of_csv", "leads.csv is really an .xlsx workbook (a zip archive).")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    c.raw["leads.csv"] = buffer.getvalue()
    c.expect(exit_code=3, message=["leads", "leads.csv", "Excel workbook", "export it as CSV"])
    return c


@case
def gzip_csv() -> Case:
    c = Case("gzip_csv", "leads.csv was gzip-compressed in transfer but kept its name.")
    c.raw["leads.csv"] = gzip.compress(c.text("leads").encode(), mtime=0)
    c.expect(exit_code=3, message=["leads", "leads.csv", "gzip", "decompress"])
    return c


@case
def empty_file() -> Case:
    c = Case("empty_file", "leads.csv is 0 bytes (the export job died before the header).")
    c.raw["leads.csv"] = b""
    c.expect(exit_code=3, message=["leads", "leads.csv", "empty"])
    return c


@case
def header_only_leads() -> Case:
    c = Case(
        "header_only_leads",
        "leads.csv has its header and no rows: nothing to score; the "
        "night runs and says so, every output is empty.",
    )
    c.tables["leads"] = (c.header("leads"), [])
    c.expect(valid={"leads": 0}, mql=0, message=["leads: leads.csv has no rows"])
    return c


@case
def header_only_activities() -> Case:
    c = Case("header_only_activities", "No marketing activities at all (header only).")
    c.tables["activities"] = (c.header("activities"), [])
    c.expect(message=["activities: activities.csv has no rows"])
    return c


@case
def header_only_history_and_touches() -> Case:
    c = Case("header_only_history_and_touches", "Empty stage history and sales touches.")
    c.tables["stage_history"] = (c.header("stage_history"), [])
    c.tables["sales_touches"] = (c.header("sales_touches"), [])
    return c
