"""Fixed vocabularies and hidden effect sizes for the synthetic CRM export (`leadctl.sample`).

Kept apart from the generator so the "ground truth" a model is supposed to recover — which
titles, industries, sizes and regions fit which product group, and how strongly — is readable
in one place. Everything here is data; nothing is random. The tables are kept one row a line
(`fmt: off`) because they are read as tables.
"""

from __future__ import annotations

# fmt: off
PRODUCT_GROUPS = ["Analytics", "Cloud", "Security"]
REGIONS = ["NA", "EMEA", "APAC", "LATAM"]
REGION_FIT = [0.2, 0.1, 0.0, -0.3]
# Teams exist per product group for these regions; LATAM leads are worked by the NA teams.
TEAM_REGIONS = ["NA", "EMEA", "APAC"]
TEAM_REGION_SHARE = [0.45, 0.35, 0.20]

# (canonical, region, calling code, spellings, spelling weights, states, ccTLD,
#  legal suffixes, share)
COUNTRIES: list[tuple[str, str, str, list[str], list[float], list[str], str, list[str], float]] = [
    ("United States", "NA", "1", ["United States", "USA", "US", "U.S.", "united states"],
     [0.45, 0.25, 0.18, 0.07, 0.05], ["CA", "NY", "TX", "MA", "WA", "IL", "Florida", "California"],
     ".com", ["Inc.", "LLC", "Corp."], 0.36),
    ("Canada", "NA", "1", ["Canada", "CA", "CAN"], [0.8, 0.1, 0.1], ["ON", "BC", "QC", "Ontario"],
     ".ca", ["Inc.", "Ltd."], 0.05),
    ("United Kingdom", "EMEA", "44", ["United Kingdom", "UK", "GB", "Great Britain", "England"],
     [0.45, 0.3, 0.1, 0.05, 0.1], [], ".co.uk", ["Ltd", "plc"], 0.12),
    ("Germany", "EMEA", "49", ["Germany", "Deutschland", "DE"], [0.6, 0.25, 0.15], [], ".de",
     ["GmbH", "AG"], 0.08),
    ("France", "EMEA", "33", ["France", "FR"], [0.85, 0.15], [], ".fr", ["SA", "SAS"], 0.05),
    ("Netherlands", "EMEA", "31", ["Netherlands", "The Netherlands", "NL", "Holland"],
     [0.6, 0.2, 0.15, 0.05], [], ".nl", ["B.V."], 0.03),
    ("Spain", "EMEA", "34", ["Spain", "España", "ES"], [0.7, 0.2, 0.1], [], ".es", ["S.L.", "S.A."],
     0.02),
    ("United Arab Emirates", "EMEA", "971", ["United Arab Emirates", "UAE"], [0.5, 0.5], [], ".ae",
     ["LLC", "FZE"], 0.02),
    ("Singapore", "APAC", "65", ["Singapore", "SG"], [0.85, 0.15], [], ".sg", ["Pte Ltd"], 0.03),
    ("Australia", "APAC", "61", ["Australia", "AU"], [0.8, 0.2], ["NSW", "VIC", "QLD"], ".com.au",
     ["Pty Ltd"], 0.05),
    ("Japan", "APAC", "81", ["Japan", "JP", "日本"], [0.8, 0.15, 0.05], [], ".jp", ["K.K."], 0.04),
    ("India", "APAC", "91", ["India", "IN"], [0.85, 0.15], [], ".in", ["Pvt Ltd"], 0.05),
    ("China", "APAC", "86", ["China", "CN", "PRC"], [0.8, 0.15, 0.05], [], ".cn", ["Co., Ltd."],
     0.02),
    ("Brazil", "LATAM", "55", ["Brazil", "Brasil", "BR"], [0.6, 0.3, 0.1], [], ".com.br", ["Ltda."],
     0.04),
    ("Mexico", "LATAM", "52", ["Mexico", "México", "MX"], [0.6, 0.3, 0.1], [], ".mx",
     ["S.A. de C.V."], 0.02),
]

# (name, share, fit, affinity per product group in PRODUCT_GROUPS order, company words)
INDUSTRIES: list[tuple[str, float, float, list[float], list[str]]] = [
    ("Technology", 0.20, 0.5, [0.3, 0.5, 0.1], ["Systems", "Software", "Labs", "Technologies"]),
    ("Finance", 0.13, 0.4, [0.2, -0.1, 0.8], ["Capital", "Bank", "Financial", "Insurance"]),
    ("Healthcare", 0.11, 0.3, [0.1, -0.2, 0.7], ["Health", "Medical", "Pharma", "Care"]),
    ("Manufacturing", 0.12, 0.1, [0.2, 0.0, -0.2], ["Industries", "Manufacturing", "Works"]),
    ("Retail", 0.10, 0.0, [0.5, 0.2, -0.3], ["Retail", "Stores", "Brands"]),
    ("Telecommunications", 0.06, 0.2, [0.0, 0.4, 0.2], ["Telecom", "Networks", "Communications"]),
    ("Energy", 0.05, 0.0, [0.2, -0.1, 0.3], ["Energy", "Power", "Utilities"]),
    ("Media", 0.07, -0.1, [0.3, 0.3, -0.3], ["Media", "Studios", "Publishing"]),
    ("Government", 0.06, -0.2, [-0.3, -0.4, 0.5], ["Agency", "Council", "Department"]),
    ("Education", 0.06, -0.5, [0.0, 0.0, -0.3], ["Academy", "Learning", "Institute"]),
]
INDUSTRY_MISSING = 0.05

# Company size bands by NumberOfEmployees: fit and per-product-group affinity.
SIZE_EDGES = [50, 200, 1000, 5000]
SIZE_FIT = [-0.6, -0.1, 0.3, 0.5, 0.4]
SIZE_AFFINITY = [  # rows: product group; cols: size band
    [0.0, 0.2, 0.3, 0.0, -0.2],   # Analytics likes the mid-market
    [0.2, 0.2, 0.0, 0.0, 0.0],    # Cloud likes smaller, faster companies
    [-0.5, -0.2, 0.2, 0.5, 0.7],  # Security likes large enterprises
]

# Title functions give each title a per-product-group affinity.
FUNCTIONS = ["general", "data", "cloud", "security"]
FUNCTION_AFFINITY = [  # rows: function; cols: product group
    [0.0, 0.0, 0.0], [0.6, -0.1, -0.2], [-0.1, 0.6, 0.0], [-0.2, 0.0, 0.7],
]
# (seniority, fit, share, [(title, function index)]); "Student" is also a negative signal.
SENIORITY: list[tuple[str, float, float, list[tuple[str | None, int]]]] = [
    ("C-level", 1.0, 0.05, [("CEO", 0), ("CTO", 2), ("CIO", 0), ("CFO", 1), ("CISO", 3),
                            ("Chief Data Officer", 1), ("COO", 0), ("Founder & CEO", 0)]),
    ("VP", 1.1, 0.07, [("VP Engineering", 2), ("VP of IT", 0), ("Vice President, Finance", 1),
                       ("VP Data & Analytics", 1), ("SVP Operations", 0),
                       ("VP Information Security", 3), ("VP Infrastructure", 2)]),
    ("Director", 1.0, 0.12, [("Director of IT", 0), ("IT Director", 0),
                             ("Director, Data & Analytics", 1), ("Head of Security", 3),
                             ("Director of Engineering", 2), ("Head of Cloud Infrastructure", 2),
                             ("Sr. Director, Analytics", 1)]),
    ("Manager", 0.4, 0.22, [("IT Manager", 0), ("Security Manager", 3), ("Engineering Manager", 2),
                            ("BI Manager", 1), ("Marketing Manager", 0),
                            ("Cloud Operations Manager", 2), ("Procurement Manager", 0)]),
    ("IC", -0.4, 0.40, [("Data Analyst", 1), ("Software Engineer", 2), ("Security Analyst", 3),
                        ("Systems Administrator", 2), ("Developer", 2), ("Business Analyst", 1),
                        ("DevOps Engineer", 2), ("Data Scientist", 1), ("Network Engineer", 3),
                        ("Accountant", 0)]),
    ("Student", -1.5, 0.06, [("Student", 0), ("Intern", 0), ("Graduate Student", 1),
                             ("PhD Candidate", 1), ("MSc Student", 0), ("Marketing Intern", 0)]),
    ("Unknown", -0.3, 0.08, [(None, 0)]),
]
STUDENT_LEVEL = 5

# (LeadSource, share, fit)
LEAD_SOURCES: list[tuple[str | None, float, float]] = [
    ("Web", 0.30, 0.0), ("Organic Search", 0.12, 0.1), ("Paid Search", 0.12, -0.1),
    ("Webinar", 0.10, 0.2), ("Trade Show", 0.08, 0.1), ("Partner Referral", 0.06, 0.5),
    ("Content Syndication", 0.10, -0.2), ("Purchased List", 0.08, -0.6),
    ("Employee Referral", 0.02, 0.4), (None, 0.02, 0.0),
]

# Custom fields (BANT): (value, share, effect on the conversion logit)
BUDGET = [("Yes", 0.20, 0.8), ("No", 0.15, -0.6), ("Unknown", 0.65, 0.0)]
TIMEFRAME = [("0-3 months", 0.10, 1.0), ("3-6 months", 0.15, 0.5), ("6-12 months", 0.20, 0.1),
             ("None", 0.55, -0.4)]
OCCUPATIONS: list[tuple[str | None, float]] = [
    (None, 0.55), ("Professional", 0.35), ("Consultant", 0.07), ("Retired", 0.01),
    ("Student", 0.02),
]

FREE_MAIL = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com", "gmx.de",
             "yahoo.co.uk", "qq.com"]
UNIVERSITY_DOMAINS = ["stateu.edu", "techuniversity.edu", "student.uni-example.de",
                      "ox-example.ac.uk"]
# (Company, e-mail domain): a small fixed list so a verify rule can know them.
COMPETITORS = [("RivalSoft Inc.", "rivalsoft.com"), ("Competico", "competico.io"),
               ("Adversa Analytics", "adversa-analytics.com")]

FIRST_NAMES = [
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Daniel", "Karen", "Matthew", "Nancy", "Anthony", "Lisa", "Mark", "Emma", "Oliver", "Sophie",
    "Lukas", "Anna", "Hannah", "Pierre", "Camille", "Raj", "Priya", "Wei", "Mei", "Kenji", "Yuki",
    "Carlos", "Ana", "Ahmed", "Fatima", "Liam", "Noah", "Olivia", "Ava", "Ethan", "Chloe", "Lars",
]
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee",
    "Thompson", "White", "Harris", "Clark", "Lewis", "Walker", "Young", "Allen", "King", "Wright",
    "Schmidt", "Schneider", "Fischer", "Weber", "Dubois", "Laurent", "Patel", "Sharma", "Singh",
    "Chen", "Wang", "Tanaka", "Suzuki", "Silva", "Santos", "Hernandez", "Lopez", "O'Brien",
    "Murphy", "Kelly", "Nguyen", "Kim",
]
# International names (display, ASCII form for e-mail local parts): accents, CJK, Arabic.
INTL_FIRST = [("José", "jose"), ("François", "francois"), ("Zoë", "zoe"), ("Søren", "soren"),
              ("Łukasz", "lukasz"), ("Björn", "bjorn"), ("伟", "wei"), ("娜", "na"),
              ("太郎", "taro"),
              ("محمد", "mohammed"), ("فاطمة", "fatima"), ("Ольга", "olga")]
INTL_LAST = [("Müller", "mueller"), ("García", "garcia"), ("Nuñez", "nunez"), ("Øster", "oster"),
             ("Wiśniewski", "wisniewski"), ("王", "wang"), ("李", "li"), ("田中", "tanaka"),
             ("العلي", "alali"), ("حداد", "haddad"), ("Иванова", "ivanova"),
             ("Gonçalves", "goncalves")]
INTL_SHARE = 0.04

SYLLABLES = [
    "ac", "al", "an", "ar", "ax", "bel", "bra", "cor", "cy", "dal", "den", "dyn", "el", "en", "ex",
    "fin", "flo", "gen", "gra", "hel", "ion", "is", "jun", "kal", "kin", "lum", "lo", "mar", "max",
    "mer", "nex", "no", "nov", "om", "or", "pax", "pix", "pro", "qua", "ra", "rex", "ri", "sa",
    "sel", "sol", "syn", "ta", "ter", "tri", "ul", "un", "va", "vel", "ver", "vi", "vo", "wa", "xa",
    "xen", "yo", "za", "zen", "zo", "tek",
]
TLD_STYLES = [".com", ".com", ".com", "cc", "cc", ".io"]  # "cc" = the country's own TLD
WEBSITE_FORMAT_SHARE = [0.45, 0.25, 0.2, 0.1]

STAGES = ["Inquiry", "MQL", "SAL", "SQL", "Opportunity", "Won", "Lost", "Recycled", "Disqualified"]
OPEN_OPP_STAGES = ["Prospecting", "Qualification", "Proposal"]
# Rejection reasons (value, weight); free text on purpose so a mapping has to cope with it.
REASONS = ["Bad contact data", "Not a fit", "No budget", "Timing", "Competitor", "Student",
           "Duplicate", "Already a customer"]
FREE_TEXT_REASONS = ["spoke w/ them - not now", "left company", "wrong number?? see notes", "N/A"]
RECYCLE_REASON_W = [0.0, 0.15, 0.30, 0.40, 0.0, 0.0, 0.0, 0.0]
DISQUALIFY_REASON_W = [0.22, 0.33, 0.1, 0.0, 0.03, 0.05, 0.06, 0.11]
LOST_REASON_W = [0.0, 0.1, 0.3, 0.3, 0.3, 0.0, 0.0, 0.0]

TASK_TYPES = ["Call", "Email", "Voicemail", "LinkedIn"]
TASK_TYPE_SHARE = [0.45, 0.35, 0.1, 0.1]
DISPOSITIONS = ["Connected", "No Answer", "Left Voicemail", "Replied", "Bounced"]

TIMEZONES = {
    "NA": ["America/New_York", "America/Chicago", "America/Los_Angeles", "America/Sao_Paulo"],
    "EMEA": ["Europe/London", "Europe/Berlin", "Europe/Paris", "Asia/Dubai"],
    "APAC": ["Asia/Singapore", "Australia/Sydney", "Asia/Tokyo", "Asia/Kolkata"],
}
WORKING_HOURS = ["09:00-17:00", "08:00-16:00", "10:00-18:00", "08:30-17:30"]

ACTIVITY_TYPES = ["Visit Webpage", "Visit Pricing Page", "Fill Out Form", "Request Demo",
                  "Attend Webinar", "Download Content", "Open Email", "Click Email",
                  "Unsubscribe Email", "Email Bounced", "Spam Complaint"]
(VISIT, PRICING, FORM, DEMO, WEBINAR, DOWNLOAD, OPEN, CLICK, UNSUB, BOUNCE, SPAM) = range(11)
# Type mixes: generic background noise, everyday product-group interest, and the high-intent
# burst that precedes an opportunity (tire-kickers draw from a similar mix, with few demos).
NOISE_MIX = {OPEN: 0.5, VISIT: 0.3, CLICK: 0.15, DOWNLOAD: 0.05}
TOPIC_MIX = {VISIT: 0.35, DOWNLOAD: 0.2, OPEN: 0.2, CLICK: 0.1, WEBINAR: 0.08, PRICING: 0.05,
             FORM: 0.015, DEMO: 0.005}
BURST_MIX = {PRICING: 0.28, DEMO: 0.15, WEBINAR: 0.12, DOWNLOAD: 0.17, VISIT: 0.15, FORM: 0.08,
             CLICK: 0.05}
KICKER_MIX = {PRICING: 0.3, DEMO: 0.04, WEBINAR: 0.12, DOWNLOAD: 0.26, VISIT: 0.2, FORM: 0.03,
              CLICK: 0.05}

WEBINAR_TOPICS = {"Analytics": ["Dashboards That Drive Decisions", "Forecasting 101"],
                  "Cloud": ["Cloud Cost Control", "Kubernetes at Scale"],
                  "Security": ["Zero Trust 101", "Ransomware Readiness"]}
# (activity type, asset template, campaign template or None); "{pg}" is the product group.
ASSETS_GENERIC: list[tuple[int, str, str | None]] = [
    (VISIT, "Home Page", None), (VISIT, "Blog: Data Trends 2026", None), (VISIT, "Careers", None),
    (VISIT, "About Us", None), (OPEN, "Monthly Newsletter", "Newsletter"),
    (OPEN, "Event Invitation", "Events"), (CLICK, "Monthly Newsletter", "Newsletter"),
    (DOWNLOAD, "Industry Report", "Content Syndication"), (FORM, "Newsletter Signup", "Web Forms"),
    (UNSUB, "Monthly Newsletter", "Newsletter"), (BOUNCE, "Monthly Newsletter", "Newsletter"),
    (SPAM, "Monthly Newsletter", "Newsletter"),
]
ASSETS_PG: list[tuple[int, str, str | None]] = [
    (VISIT, "{pg} Product Page", None), (VISIT, "{pg} Customer Stories", None),
    (PRICING, "{pg} Pricing", None), (FORM, "{pg} Contact Sales", "{pg} Web Forms"),
    (DEMO, "{pg} Demo Request", "{pg} Demo Requests"),
    (WEBINAR, "Webinar: {topic0}", "{pg} Webinars"),
    (WEBINAR, "Webinar: {topic1}", "{pg} Webinars"),
    (DOWNLOAD, "{pg} Buyers Guide", "{pg} Content"), (DOWNLOAD, "{pg} Whitepaper", "{pg} Content"),
    (OPEN, "{pg} Nurture Email", "{pg} Nurture"), (CLICK, "{pg} Nurture Email", "{pg} Nurture"),
]
# fmt: on
