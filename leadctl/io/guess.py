"""Guess a column mapping from an export's header (`leadctl init`).

Known field names of Salesforce, HubSpot and Marketo exports come first; after that a header
that matches a canonical name once case, spaces and underscores are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from leadctl.io.mapping import header_key
from leadctl.schemas import columns_of

# canonical column -> header spellings seen in common CRM / marketing-automation exports
KNOWN_HEADERS: dict[str, dict[str, list[str]]] = {
    "leads": {
        "lead_id": [
            "Id",
            "Lead ID",
            "Record ID",
            "Contact ID",
            "sfdcLeadId",
            "hs_object_id",
            "leadId",
            "Lead Id",
        ],
        "email": ["Email", "Email Address", "email"],
        "first_name": ["FirstName", "First Name", "firstname"],
        "last_name": ["LastName", "Last Name", "lastname"],
        "title": ["Title", "Job Title", "jobtitle"],
        "company": ["Company", "Company Name", "company"],
        "account_id": [
            "AccountId",
            "Account__c",
            "ConvertedAccountId",
            "Associated Company ID",
            "sfdcAccountId",
        ],
        "country": ["Country", "Country/Region", "country", "MailingCountry"],
        "state": ["State", "State/Region", "state", "MailingState"],
        "phone": ["Phone", "Phone Number", "phone", "MobilePhone", "Mobile Phone Number"],
        "industry": ["Industry", "industry"],
        "employees": ["NumberOfEmployees", "Number of Employees", "numberofemployees", "Employees"],
        "annual_revenue": ["AnnualRevenue", "Annual Revenue", "annualrevenue"],
        "lead_source": [
            "LeadSource",
            "Lead Source",
            "Original Source",
            "hs_analytics_source",
            "Original Source Type",
        ],
        "created_at": ["CreatedDate", "Create Date", "createdate", "Created At", "createdAt"],
        "stage": [
            "Status",
            "Lifecycle_Stage__c",
            "Lifecycle Stage",
            "lifecyclestage",
            "Lead Status",
        ],
        "owner_id": [
            "OwnerId",
            "Contact owner",
            "hubspot_owner_id",
            "Lead Owner",
            "sfdcLeadOwnerId",
        ],
        "do_not_contact": ["DoNotCall", "Do Not Call", "hs_do_not_call"],
        "unsubscribed": [
            "HasOptedOutOfEmail",
            "Unsubscribed from all email",
            "unsubscribed",
            "Unsubscribed",
        ],
        "consent": ["GDPR_Consent__c", "Legal basis for processing contact's data", "Consent"],
        "is_converted": ["IsConverted", "Converted"],
        "converted_at": ["ConvertedDate", "Became a Customer Date", "Converted Date"],
    },
    "accounts": {
        "account_id": ["Id", "Account ID", "Record ID", "Company ID", "hs_object_id"],
        "name": ["Name", "Account Name", "Company name", "name"],
        "domain": ["Website", "Company Domain Name", "domain", "Domain"],
        "industry": ["Industry", "industry"],
        "employees": ["NumberOfEmployees", "Number of Employees", "numberofemployees"],
        "annual_revenue": ["AnnualRevenue", "Annual Revenue", "annualrevenue"],
        "country": ["BillingCountry", "Country/Region", "country", "Country"],
        "owner_id": ["OwnerId", "Company owner", "hubspot_owner_id", "Account Owner"],
        "named_account": ["Named_Account__c", "Named Account", "Target Account"],
        "target_account": ["Target_Account__c", "Target Account", "ABM Target"],
    },
    "activities": {
        "lead_id": ["sfdcLeadId", "Lead ID", "leadId", "WhoId", "Contact ID"],
        "activity_type": ["activityTypeName", "Activity Type", "activityType", "Event Type"],
        "occurred_at": ["activityDate", "Activity Date", "Timestamp", "occurredAt", "Date"],
        "asset_id": ["primaryAttributeValue", "Asset", "Asset Name", "Content"],
        "product_group": ["productGroup", "Product Group", "Product_Group__c"],
        "campaign": ["campaignName", "Campaign", "Campaign Name", "programName"],
    },
    "opportunities": {
        "opportunity_id": ["Id", "Opportunity ID", "Deal ID", "Record ID"],
        "account_id": ["AccountId", "Account ID", "Associated Company ID"],
        "lead_id": ["Primary_Lead__c", "ContactId", "Primary Contact", "Associated Contact ID"],
        "product_group": ["Product_Group__c", "Product Group", "Product Line", "pipeline"],
        "created_at": ["CreatedDate", "Create Date", "createdate"],
        "closed_at": ["CloseDate", "Close Date", "closedate"],
        "stage": ["StageName", "Deal Stage", "dealstage", "Stage"],
        "is_won": ["IsWon", "Is Closed Won", "hs_is_closed_won", "Won"],
        "amount": ["Amount", "amount", "Deal Amount"],
    },
    "reps": {
        "rep_id": ["Id", "User ID", "Owner ID", "id"],
        "name": ["Name", "Full Name", "Owner Name"],
        "team": ["Team__c", "Team", "Sales Team"],
        "role": ["UserRole", "Role", "UserRole.Name"],
        "product_groups": ["Product_Groups__c", "Product Groups"],
        "territories": ["Territories__c", "Territories", "Territory"],
        "capacity": ["Max_Open_Leads__c", "Capacity", "Max Open Leads"],
        "active": ["IsActive", "Active", "Is Active"],
        "out_of_office_from": ["Out_Of_Office_From__c", "OOO From"],
        "out_of_office_to": ["Out_Of_Office_To__c", "OOO To"],
        "time_zone": ["TimeZoneSidKey", "Time Zone", "Timezone"],
        "working_hours": ["Working_Hours__c", "Working Hours"],
        "manager_id": ["ManagerId", "Manager ID", "Manager"],
    },
    "stage_history": {
        "lead_id": ["LeadId", "Lead ID", "ContactId", "WhoId"],
        "product_group": ["Product_Group__c", "Product Group"],
        "stage": ["Stage__c", "NewValue", "New Value", "Stage", "Lifecycle Stage"],
        "changed_at": ["CreatedDate", "Changed At", "Date", "Timestamp"],
        "changed_by": ["CreatedById", "Changed By", "Edited By"],
        "reason": ["Reason__c", "Reason", "Disqualification Reason", "Rejection Reason"],
    },
    "sales_touches": {
        "lead_id": ["WhoId", "Lead ID", "Contact ID", "LeadId"],
        "rep_id": ["OwnerId", "Assigned To", "Activity assigned to", "Owner ID"],
        "channel": ["Type", "TaskSubtype", "Activity Type", "Channel"],
        "occurred_at": ["CreatedDate", "ActivityDate", "Activity date", "Create Date"],
        "outcome": ["CallDisposition", "Call outcome", "Outcome", "Status"],
    },
}


@dataclass
class Guess:
    """The proposed mapping: canonical → header, and what stayed unmapped on both sides."""

    table: str
    columns: dict[str, str]
    unmapped_required: list[str]
    unmapped_optional: list[str]
    unused_headers: list[str]


def guess_mapping(header: list[str], table: str) -> Guess:
    """Map each canonical column of `table` onto one header, at most once per header."""
    by_norm: dict[str, str] = {}
    for h in header:
        by_norm.setdefault(header_key(h), h)
    taken: set[str] = set()
    columns: dict[str, str] = {}
    known = KNOWN_HEADERS.get(table, {})
    specs = columns_of(table)
    for spec in specs:  # exact known spellings first
        for alias in known.get(spec.name, []):
            hit = alias if alias in header else by_norm.get(header_key(alias))
            if hit and hit not in taken:
                columns[spec.name] = hit
                taken.add(hit)
                break
    for spec in specs:  # then the canonical name itself, loosely
        if spec.name not in columns:
            hit = by_norm.get(header_key(spec.name))
            if hit and hit not in taken:
                columns[spec.name] = hit
                taken.add(hit)
    missing = [s for s in specs if s.name not in columns]
    return Guess(
        table=table,
        columns={s.name: columns[s.name] for s in specs if s.name in columns},
        unmapped_required=[s.name for s in missing if s.required],
        unmapped_optional=[s.name for s in missing if not s.required],
        unused_headers=[h for h in header if h not in taken],
    )


def _yaml_key(text: str) -> str:
    safe = text.replace("_", "").isalnum() and not text[:1].isdigit()
    return text if safe else '"' + text.replace('"', '\\"') + '"'


def render_yaml(guess: Guess, path: str) -> str:
    """A ready-to-paste block for `inputs.tables`, with what could not be mapped marked."""
    lines = [f"    {guess.table}:", f"      path: {path}", "      columns:"]
    for canonical, header in guess.columns.items():
        lines.append(f"        {canonical}: {_yaml_key(header)}")
    for name in guess.unmapped_required:
        lines.append(
            f"        # {name}: ???   # REQUIRED: no header matched; set it or the load fails"
        )
    for name in guess.unmapped_optional:
        lines.append(f"        # {name}: ???   # optional: not found in the header")
    if guess.unused_headers:
        lines.append(
            "      # headers not mapped (add under extra_columns to keep them as features):"
        )
        for header in guess.unused_headers:
            lines.append(f"      #   {header}")
    return "\n".join(lines) + "\n"
