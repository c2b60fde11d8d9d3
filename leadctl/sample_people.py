"""Reps, accounts and leads for the synthetic export, with each lead's hidden fit.

Fit is built from the same attributes the export shows (title, industry, size band, region,
lead source), so a model can recover it; the dirt (spellings, phone formats, free-mail,
duplicates, CSV-hostile strings) is layered on the visible strings only, never on the latent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from leadctl import sample_vocab as V
from leadctl.sample_util import (
    DAY,
    SF_DATE,
    bool_true,
    fmt_time,
    keep,
    pick,
    sf_ids,
    take,
    to_frame,
)


@dataclass
class Users:
    frame: pl.DataFrame
    ids: pl.Series
    workers: list[np.ndarray]  # per team (pg * 3 + team region): SDR/AE user indices
    managers: np.ndarray  # per team: the manager's user index


@dataclass
class Leads:
    frame: pl.DataFrame  # export columns that do not depend on the funnel
    ids: pl.Series
    created: np.ndarray  # epoch seconds
    team_region: np.ndarray  # index into TEAM_REGIONS
    fit: np.ndarray  # (n, product groups) latent fit
    intent: np.ndarray  # (n, product groups) latent intent
    extra: np.ndarray  # custom-field + negative-signal logit shift per lead
    employees: np.ndarray
    engagement: np.ndarray  # background activity level (noise, not signal)
    flags: dict[str, np.ndarray]


def _names(rng: np.random.Generator, n: int) -> tuple[pl.Series, pl.Series, pl.Series, pl.Series]:
    """(first, last, first ASCII, last ASCII) with a few accented / CJK / Arabic names."""
    intl = rng.random(n) < V.INTL_SHARE
    fi, li = rng.integers(0, len(V.FIRST_NAMES), n), rng.integers(0, len(V.LAST_NAMES), n)
    ifi, ili = rng.integers(0, len(V.INTL_FIRST), n), rng.integers(0, len(V.INTL_LAST), n)
    m = pl.Series(intl)
    out = []
    for plain, inter, pi, ii in (
        (V.FIRST_NAMES, V.INTL_FIRST, fi, ifi),
        (V.LAST_NAMES, V.INTL_LAST, li, ili),
    ):
        disp = pl.select(
            pl.when(m).then(take([a for a, _ in inter], ii)).otherwise(take(plain, pi))
        ).to_series()
        asc = pl.select(
            pl.when(m)
            .then(take([b for _, b in inter], ii))
            .otherwise(take(plain, pi).str.to_lowercase().str.replace_all("'", ""))
        ).to_series()
        out.append((disp, asc))
    return out[0][0], out[1][0], out[0][1], out[1][1]


def make_users(
    rng: np.random.Generator, n_leads: int, n_pg: int, export: int, *, shard: int = 0
) -> Users:
    """About one rep per 150 leads, one team per product group x region, one manager each."""
    n_reps = max(12, round(n_leads / 150))
    teams = [(p, r) for p in range(n_pg) for r in range(len(V.TEAM_REGIONS))]
    sizes = np.array([max(2, round(n_reps * V.TEAM_REGION_SHARE[r] / n_pg)) for _, r in teams])
    team = np.repeat(np.arange(len(teams)), sizes)
    n = int(sizes.sum())
    first_in_team = np.r_[0, np.cumsum(sizes)[:-1]]
    is_mgr = np.zeros(n, bool)
    is_mgr[first_in_team] = True
    role = np.where(is_mgr, 2, (rng.random(n) < 0.5).astype(np.int64))  # 0 SDR, 1 AE, 2 Manager
    pg = np.array([p for p, _ in teams])[team]
    reg = np.array([r for _, r in teams])[team]
    ids = sf_ids("005", n, rng, shard)
    first, last, _, _ = _names(rng, n)
    second = (pg + 1 + rng.integers(0, max(n_pg - 1, 1), n)) % n_pg
    two = (rng.random(n) < 0.15) & (n_pg > 1)
    lo, hi = np.minimum(pg, second), np.maximum(pg, second)
    pgs = V.PRODUCT_GROUPS[:n_pg]
    both = pl.concat_str([take(pgs, lo), take(pgs, hi)], separator=";")
    extra_terr = rng.random(n)
    terr = np.where(reg == 0, np.where(extra_terr < 0.4, 1, 0), np.where(extra_terr < 0.1, 1, 0))
    terr_names = [["NA", "NA;LATAM"], ["EMEA", "EMEA;APAC"], ["APAC", "APAC;EMEA"]]
    inactive = (rng.random(n) < 0.04) & ~is_mgr
    inactive[np.flatnonzero(~is_mgr)[rng.integers(0, n - len(teams))]] = True  # always at least one
    ooo = rng.random(n) < 0.06
    ooo[rng.integers(0, n)] = True
    ooo_from = export + rng.integers(-10, 6, n) * DAY
    ooo_to = ooo_from + rng.integers(1, 15, n) * DAY
    # NA reps covering LATAM sit in Sao Paulo; everyone else picks a zone of their region.
    tz_idx = np.where(
        reg == 0, np.where(terr == 1, 3, rng.integers(0, 3, n)), rng.integers(0, 4, n)
    )
    manager_of_team = first_in_team
    frame = to_frame(
        {
            "Id": ids,
            "Name": pl.concat_str([first, last], separator=" "),
            "Team__c": pl.concat_str([take(pgs, pg), take(V.TEAM_REGIONS, reg)], separator=" "),
            "UserRole": take(["SDR", "AE", "Manager"], role),
            "Product_Groups__c": pl.select(
                pl.when(pl.Series(two)).then(both).otherwise(take(pgs, pg))
            ).to_series(),
            "Territories__c": take(sum(terr_names, []), reg * 2 + terr),
            "Max_Open_Leads__c": np.select(
                [role == 0, role == 1],
                [rng.integers(150, 401, n), rng.integers(40, 121, n)],
                rng.integers(20, 41, n),
            ),
            "IsActive": bool_true(~inactive),
            "Out_Of_Office_From__c": keep(ooo, fmt_time(ooo_from, SF_DATE)),
            "Out_Of_Office_To__c": keep(ooo, fmt_time(ooo_to, SF_DATE)),
            "TimeZoneSidKey": take(
                sum((V.TIMEZONES[r] for r in V.TEAM_REGIONS), []), reg * 4 + tz_idx
            ),
            "Working_Hours__c": take(V.WORKING_HOURS, pick(rng, n, [0.55, 0.15, 0.15, 0.15])),
            "ManagerId": keep(~is_mgr, ids.gather(manager_of_team[team])),
        }
    )
    workers = [np.flatnonzero((team == t) & ~is_mgr) for t in range(len(teams))]
    return Users(frame, ids, workers, manager_of_team)


def company_names(
    rng: np.random.Generator, codes: np.ndarray, country: np.ndarray, industry: np.ndarray
) -> pl.DataFrame:
    """Unique made-up companies from unique codes: name, name without legal suffix, domain."""
    ns = len(V.SYLLABLES)
    style, rest = codes % len(V.TLD_STYLES), codes // len(V.TLD_STYLES)
    base = pl.concat_str([take(V.SYLLABLES, (rest // ns**k) % ns) for k in (2, 1, 0)])
    words = [w for ind in V.INDUSTRIES for w in ind[4]]
    w_off = np.r_[0, np.cumsum([len(ind[4]) for ind in V.INDUSTRIES])]
    w_cnt = np.diff(w_off)
    ind = np.where(industry < 0, 0, industry)
    word = take(words, w_off[ind] + rng.integers(0, 1 << 30, len(codes)) % w_cnt[ind])
    sfx = [s for c in V.COUNTRIES for s in c[7]]
    s_off = np.r_[0, np.cumsum([len(c[7]) for c in V.COUNTRIES])]
    s_cnt = np.diff(s_off)
    suffix = take(sfx, s_off[country] + rng.integers(0, 1 << 30, len(codes)) % s_cnt[country])
    tld = pl.select(
        pl.when(pl.Series(np.array(V.TLD_STYLES)[style] == "cc"))
        .then(take([c[6] for c in V.COUNTRIES], country))
        .otherwise(take(V.TLD_STYLES, style))
    ).to_series()
    title = base.str.to_titlecase()
    with_word = pl.select(
        pl.when(pl.Series(rng.random(len(codes)) < 0.5))
        .then(pl.concat_str([title, word], separator=" "))
        .otherwise(title)
    ).to_series()
    name = pl.select(
        pl.when(pl.Series(rng.random(len(codes)) < 0.7))
        .then(pl.concat_str([with_word, suffix], separator=" "))
        .otherwise(with_word)
    ).to_series()
    return to_frame({"name": name, "short": with_word, "domain": pl.concat_str([base, tld])})


def _firmographics(
    rng: np.random.Generator, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Country, industry (-1 = missing), employees, revenue for n companies."""
    country = pick(rng, n, [c[8] for c in V.COUNTRIES])
    industry = pick(rng, n, [i[1] for i in V.INDUSTRIES])
    industry[rng.random(n) < V.INDUSTRY_MISSING] = -1
    emp = np.clip(np.exp(rng.normal(np.log(250), 1.7, n)), 3, 250_000).astype(np.int64)
    rev = (emp * rng.uniform(80_000, 350_000, n) // 1000 * 1000).astype(np.int64)
    return country, industry, emp, rev


def make_accounts(
    rng: np.random.Generator, n_acc: int, codes: np.ndarray, users: Users, *, shard: int = 0
) -> tuple[pl.DataFrame, dict]:
    """Accounts (Salesforce Account) plus the firmographics leads inherit when matched."""
    country, industry, emp, rev = _firmographics(rng, n_acc)
    names = company_names(rng, codes, country, industry)
    ids = sf_ids("001", n_acc, rng, shard)
    region = np.array(
        [V.TEAM_REGIONS.index(c[1]) if c[1] in V.TEAM_REGIONS else 0 for c in V.COUNTRIES]
    )[country]
    roles = users.frame["UserRole"].to_numpy()
    team_reg = np.array(
        [V.TEAM_REGIONS.index(t.split(" ")[-1]) for t in users.frame["Team__c"].to_list()]
    )
    owner = np.zeros(n_acc, np.int64)
    for r in range(len(V.TEAM_REGIONS)):
        pool = np.flatnonzero((team_reg == r) & (roles == "AE"))
        pool = pool if len(pool) else np.flatnonzero(team_reg == r)
        sel = region == r
        owner[sel] = pool[rng.integers(0, len(pool), int(sel.sum()))]
    fmt = pick(rng, n_acc, V.WEBSITE_FORMAT_SHARE)
    d = names["domain"]
    website = pl.select(
        pl.when(pl.Series(fmt == 0))
        .then(pl.concat_str([pl.lit("www."), d]))
        .when(pl.Series(fmt == 1))
        .then(pl.concat_str([pl.lit("https://"), d, pl.lit("/")]))
        .when(pl.Series(fmt == 2))
        .then(d)
        .otherwise(pl.concat_str([pl.lit("http://www."), d]))
    ).to_series()
    frame = to_frame(
        {
            "Id": ids,
            "Name": names["name"],
            "Website": website,
            "Industry": take([i[0] for i in V.INDUSTRIES], np.maximum(industry, 0)),
            "NumberOfEmployees": emp,
            "AnnualRevenue": pl.Series(rev).set(pl.Series(rng.random(n_acc) < 0.1), None),
            "BillingCountry": _spell_country(rng, country),
            "OwnerId": users.ids.gather(owner),
            "Named_Account__c": bool_true(rng.random(n_acc) < 0.05 + 0.25 * (emp > 5000)),
            "Target_Account__c": bool_true(rng.random(n_acc) < 0.2),
        }
    ).with_columns(pl.when(pl.Series(industry >= 0)).then(pl.col("Industry")).alias("Industry"))
    info = {
        "country": country,
        "industry": industry,
        "emp": emp,
        "rev": rev,
        "names": names,
        "ids": ids,
    }
    return frame, info


def _spell_country(rng: np.random.Generator, country: np.ndarray) -> pl.Series:
    """The same country written the many ways CRMs collect it ("USA", "U.S.", "Deutschland"…)."""
    flat = [s for c in V.COUNTRIES for s in c[3]]
    off = np.r_[0, np.cumsum([len(c[3]) for c in V.COUNTRIES])]
    cdfs = [np.cumsum(c[4]) / np.sum(c[4]) for c in V.COUNTRIES]
    u = rng.random(len(country))
    variant = np.zeros(len(country), np.int64)
    for k, cdf in enumerate(cdfs):  # a loop over ~15 countries, vectorised inside
        sel = country == k
        variant[sel] = np.searchsorted(cdf, u[sel], side="right")
    return take(flat, off[country] + np.minimum(variant, np.diff(off)[country] - 1))


_ISO = {
    "United States": "US",
    "Canada": "CA",
    "United Kingdom": "GB",
    "Germany": "DE",
    "France": "FR",
    "Netherlands": "NL",
    "Spain": "ES",
    "United Arab Emirates": "AE",
    "Singapore": "SG",
    "Australia": "AU",
    "Japan": "JP",
    "India": "IN",
    "China": "CN",
    "Brazil": "BR",
    "Mexico": "MX",
}
# Real North American area codes, so generated numbers pass a phone-number validator.
_NANP_AREAS = [
    "212",
    "213",
    "312",
    "415",
    "617",
    "646",
    "202",
    "305",
    "404",
    "512",
    "206",
    "303",
    "416",
    "604",
    "514",
    "617",
    "702",
    "713",
    "214",
    "480",
]


def _mobile_templates() -> tuple[list[str], list[str]]:
    """Per country: a valid mobile number's significant digits but the last four, and the
    national trunk prefix ("0" in most of Europe, "" where there is none)."""
    import phonenumbers
    from phonenumbers import PhoneMetadata, PhoneNumberType

    heads, trunks = [], []
    for c in V.COUNTRIES:
        region = _ISO[c[0]]
        example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
        assert example is not None, region  # phonenumbers ships one for every region we use
        nsn = phonenumbers.national_significant_number(example)
        heads.append(nsn[:-4])
        meta = PhoneMetadata.metadata_for_region(region)
        trunks.append((meta.national_prefix or "") if meta else "")
    return heads, trunks


def _phones(rng: np.random.Generator, country: np.ndarray) -> pl.Series:
    """Phones in mixed national / international formats, ~10 % missing, some malformed.

    Well-formed numbers are real-looking: valid area codes (North America) or a country's
    mobile range with random last digits, so a validator accepts them as numbers.
    """
    n = len(country)
    cc = take([c[2] for c in V.COUNTRIES], country)
    a3, b3, c4 = (
        pl.Series(rng.integers(lo, hi, n)).cast(pl.String)
        for lo, hi in ((201, 990), (200, 1000), (0, 10000))
    )
    c4 = c4.str.zfill(4)
    a3 = take(_NANP_AREAS, a3.cast(pl.Int64).to_numpy() % len(_NANP_AREAS))
    rng.integers(10, 100, n)  # kept so the other columns' random streams stay as they were
    rng.integers(1_000_000, 99_999_999, n)
    heads, trunks = _mobile_templates()
    head = take(heads, country)
    trunk = take(trunks, country)
    f = pl.Series(rng.integers(0, 4, n))
    nanp = pl.Series(np.array([c[2] == "1" for c in V.COUNTRIES])[country])
    L = pl.lit
    phone = pl.select(
        pl.when(nanp & (f == 0))
        .then(pl.concat_str([L("+1 "), a3, L(" "), b3, L(" "), c4]))
        .when(nanp & (f == 1))
        .then(pl.concat_str([L("("), a3, L(") "), b3, L("-"), c4]))
        .when(nanp & (f == 2))
        .then(pl.concat_str([a3, L("-"), b3, L("-"), c4]))
        .when(nanp)
        .then(pl.concat_str([L("+1"), a3, b3, c4]))
        .when(f <= 1)
        .then(pl.concat_str([L("+"), cc, L(" "), head, L(" "), c4]))
        .when(f == 2)
        .then(pl.concat_str([trunk, head, L(" "), c4]))
        .otherwise(pl.concat_str([L("+"), cc, head, c4]))
    ).to_series()
    u = rng.random(n)
    bad = take(["555-CALL-NOW", "12345", "n/a", "000", "call me"], rng.integers(0, 5, n))
    return pl.select(
        pl.when(pl.Series(u < 0.10))
        .then(None)
        .when(pl.Series(u < 0.115))
        .then(bad)
        .otherwise(phone)
    ).to_series()


def make_leads(
    rng: np.random.Generator,
    n_leads: int,
    n_pg: int,
    export: int,
    acc: dict,
    company_codes: np.ndarray,
    *,
    shard: int = 0,
) -> Leads:
    """Leads with firmographics, contact data, custom fields, dirt and the hidden fit/intent."""
    n_dup = int(round(n_leads * 0.02))
    n = n_leads - n_dup
    level = pick(rng, n, [s[2] for s in V.SENIORITY])
    t_off = np.r_[0, np.cumsum([len(s[3]) for s in V.SENIORITY])]
    t_idx = t_off[level] + rng.integers(0, 1 << 30, n) % np.diff(t_off)[level]
    titles = [t for s in V.SENIORITY for t, _ in s[3]]
    func = np.array([f for s in V.SENIORITY for _, f in s[3]])[t_idx]
    occupation = pick(rng, n, [o[1] for o in V.OCCUPATIONS])
    student = (level == V.STUDENT_LEVEL) | (occupation == 4)
    occupation[level == V.STUDENT_LEVEL] = np.where(
        rng.random(int((level == V.STUDENT_LEVEL).sum())) < 0.7, 4, 0
    )
    competitor = (rng.random(n) < 0.01) & ~student
    matched = (rng.random(n) < 0.77) & ~student & ~competitor
    # Matched leads inherit their account; bigger accounts get more leads.
    n_acc = len(acc["emp"])
    a_idx = pick(rng, n, np.sqrt(acc["emp"]))
    n_comp = len(company_codes)
    c_idx = rng.integers(0, n_comp, n)
    c_country, c_industry, c_emp, c_rev = _firmographics(rng, n_comp)
    comp = company_names(rng, company_codes, c_country, c_industry)
    country = np.where(matched, acc["country"][a_idx], c_country[c_idx])
    industry = np.where(matched, acc["industry"][a_idx], c_industry[c_idx])
    emp = np.where(matched, acc["emp"][a_idx], c_emp[c_idx])
    rev = np.where(matched, acc["rev"][a_idx], c_rev[c_idx])
    industry[student & (rng.random(n) < 0.6)] = [i[0] for i in V.INDUSTRIES].index("Education")
    industry[competitor] = 0
    m = pl.Series(matched)
    variant = rng.random(n)
    acc_company = pl.select(
        pl.when(pl.Series(variant < 0.15))
        .then(acc["names"]["short"].gather(a_idx))
        .when(pl.Series(variant < 0.18))
        .then(acc["names"]["name"].gather(a_idx).str.to_uppercase())
        .otherwise(acc["names"]["name"].gather(a_idx))
    ).to_series()
    comp_i = rng.integers(0, len(V.COMPETITORS), n)
    uni = take(
        ["State University", "Tech University", "Universität Example", "Oxbridge College"],
        rng.integers(0, 4, n),
    )
    company = pl.select(
        pl.when(pl.Series(competitor))
        .then(take([c[0] for c in V.COMPETITORS], comp_i))
        .when(pl.Series(student))
        .then(pl.when(pl.Series(rng.random(n) < 0.7)).then(uni))
        .when(m)
        .then(acc_company)
        .otherwise(comp["name"].gather(c_idx))
    ).to_series()
    domain = pl.select(
        pl.when(m)
        .then(acc["names"]["domain"].gather(a_idx))
        .otherwise(comp["domain"].gather(c_idx))
    ).to_series()
    freemail = (rng.random(n) < np.where(matched, 0.05, 0.18)) | (student & (rng.random(n) < 0.5))
    freemail &= ~competitor
    domain = pl.select(
        pl.when(pl.Series(competitor))
        .then(take([c[1] for c in V.COMPETITORS], comp_i))
        .when(pl.Series(freemail))
        .then(take(V.FREE_MAIL, pick(rng, n, [8, 4, 3, 3, 1, 1, 1, 1])))
        .when(pl.Series(student))
        .then(take(V.UNIVERSITY_DOMAINS, rng.integers(0, 4, n)))
        .otherwise(domain)
    ).to_series()
    first, last, fa, la = _names(rng, n)
    lf = rng.integers(0, 4, n)
    local = pl.select(
        pl.when(pl.Series(lf == 0))
        .then(pl.concat_str([fa, la], separator="."))
        .when(pl.Series(lf == 1))
        .then(pl.concat_str([fa.str.slice(0, 1), la]))
        .when(pl.Series(lf == 2))
        .then(pl.concat_str([fa, la], separator="_"))
        .otherwise(fa)
    ).to_series()
    no_email = rng.random(n) < 0.03
    email = keep(~no_email, pl.concat_str([local, domain], separator="@"))
    region = np.array([V.REGIONS.index(c[1]) for c in V.COUNTRIES])[country]
    states = [s for c in V.COUNTRIES for s in c[5]] or [""]
    st_off = np.r_[0, np.cumsum([len(c[5]) for c in V.COUNTRIES])]
    st_cnt = np.diff(st_off)[country]
    has_state = (st_cnt > 0) & (rng.random(n) < 0.9)
    state_i = np.minimum(
        st_off[country] + rng.integers(0, 1 << 30, n) % np.maximum(st_cnt, 1), len(states) - 1
    )
    source = pick(rng, n, [s[1] for s in V.LEAD_SOURCES])
    budget = pick(rng, n, [b[1] for b in V.BUDGET])
    timeframe = pick(rng, n, [t[1] for t in V.TIMEFRAME])
    opt_out = rng.random(n) < 0.06
    spam = rng.random(n) < 0.005
    opt_out |= spam
    bounced = (rng.random(n) < 0.03) & ~no_email
    dnc = rng.random(n) < 0.04
    emea = region == 1
    g = rng.random(n)
    gdpr = np.where(
        emea, np.select([g < 0.6, g < 0.85], [0, 1], 2), np.select([g < 0.15, g < 0.2], [0, 1], 2)
    )
    created = export - (730 * DAY * rng.beta(1.0, 1.6, n)).astype(np.int64) - 3600
    # Hidden fit / intent: the ground truth a model should learn.
    band = np.searchsorted(V.SIZE_EDGES, emp, side="right")
    ind_fit = np.array([i[2] for i in V.INDUSTRIES] + [0.0])[industry]
    fit0 = (
        np.array([s[1] for s in V.SENIORITY])[level]
        + ind_fit
        + np.array(V.SIZE_FIT)[band]
        + np.array(V.REGION_FIT)[region]
        + np.array([s[2] for s in V.LEAD_SOURCES])[source]
        + rng.normal(0, 0.4, n)
    )
    ind_aff = np.array([i[3][:n_pg] for i in V.INDUSTRIES] + [[0.0] * n_pg])[industry]
    fit = (
        fit0[:, None]
        + ind_aff
        + np.array(V.SIZE_AFFINITY)[:n_pg].T[band]
        + np.array(V.FUNCTION_AFFINITY)[:, :n_pg][func]
    )
    # Intent is half shared (an in-market buyer looks at several lines, so cross-sell happens)
    # and half specific to the product group.
    intent = 0.9 * rng.normal(0, 1, (n, 1)) + 0.45 * rng.normal(0, 1, (n, n_pg))
    extra = (
        np.array([b[2] for b in V.BUDGET])[budget]
        + np.array([t[2] for t in V.TIMEFRAME])[timeframe]
        - 2.5 * student
        - 5.0 * competitor
        - 1.2 * freemail
        - 2.0 * opt_out
        - 1.5 * bounced
        - 0.5 * no_email
    )
    engagement = np.exp(rng.normal(0, 0.5, n))
    # Deliberate CSV-hostile values on three fixed rows.
    hostile = rng.choice(n, 3, replace=n < 3)
    title_s = take(titles, t_idx).scatter(hostile[1], "Director of\nInformation Security")
    company = company.scatter(hostile[0], 'Smith, Jones & "Partners" LLC')
    company = company.scatter(hostile[2], '=HYPERLINK("http://example.com","Acme")')
    frame = to_frame(
        {
            "FirstName": first,
            "LastName": last,
            "Email": email,
            "Phone": _phones(rng, country),
            "Title": title_s,
            "Company": company,
            "Industry": keep(
                industry >= 0, take([i[0] for i in V.INDUSTRIES], np.maximum(industry, 0))
            ),
            "NumberOfEmployees": pl.Series(emp).set(pl.Series(rng.random(n) < 0.1), None),
            "AnnualRevenue": pl.Series(rev).set(pl.Series(rng.random(n) < 0.25), None),
            "Country": pl.Series(_spell_country(rng, country)).set(
                pl.Series(rng.random(n) < 0.02), None
            ),
            "State": keep(has_state, take(states, state_i)),
            "LeadSource": take([s[0] for s in V.LEAD_SOURCES], source),
            "HasOptedOutOfEmail": bool_true(opt_out),
            "DoNotCall": bool_true(dnc),
            "GDPR_Consent__c": take(["Yes", "No", None], gdpr),
            "Account__c": pl.select(
                pl.when(m).then(acc["ids"].gather(np.minimum(a_idx, n_acc - 1)))
            ).to_series(),
            "Current_Occupation__c": take([o[0] for o in V.OCCUPATIONS], occupation),
            "Budget__c": take([b[0] for b in V.BUDGET], budget),
            "Purchase_Timeframe__c": take([t[0] for t in V.TIMEFRAME], timeframe),
        }
    )
    flags = {
        "student": student,
        "competitor": competitor,
        "freemail": freemail,
        "opt_out": opt_out,
        "spam": spam,
        "bounced": bounced,
        "no_email": no_email,
        "dup": np.zeros(n, bool),
    }
    # Duplicate people: same person again later, new Id, e-mail with case / whitespace changes.
    src = rng.choice(n, n_dup, replace=False) if n_dup else np.zeros(0, np.int64)
    rows = np.r_[np.arange(n), src]
    dup_created = np.minimum(created[src] + rng.integers(1, 200, n_dup) * DAY, export - 600)
    frame = frame[rows]
    v = rng.integers(0, 3, n_dup)
    dup_email = frame["Email"].slice(n)
    dup_email = pl.select(
        pl.when(pl.Series(v == 0))
        .then(dup_email.str.to_uppercase())
        .when(pl.Series(v == 1))
        .then(pl.concat_str([pl.lit(" "), dup_email, pl.lit(" ")]))
        .otherwise(dup_email.str.to_titlecase())
    ).to_series()
    frame = frame.with_columns(pl.concat([frame["Email"].slice(0, n), dup_email]).alias("Email"))
    created = np.r_[created, dup_created]
    flags = {k: v_[rows] for k, v_ in flags.items()}
    flags["dup"][n:] = True
    extra = extra[rows] - 2.0 * flags["dup"]
    order = np.argsort(created, kind="stable")  # Ids increase with CreatedDate, like Salesforce
    frame = frame[order]
    ids = sf_ids("00Q", n_leads, rng, shard)
    frame = frame.with_columns(
        Id=ids, CreatedDate=fmt_time(created[order], "%Y-%m-%dT%H:%M:%S.000+0000")
    )
    team_region = np.minimum(region, 2)
    team_region[region == 3] = 0  # LATAM is worked from NA
    return Leads(
        frame=frame,
        ids=ids,
        created=created[order],
        team_region=team_region[rows][order],
        fit=fit[rows][order],
        intent=intent[rows][order],
        extra=extra[order],
        employees=emp[rows][order],
        engagement=engagement[rows][order],
        flags={k: v_[order] for k, v_ in flags.items()},
    )
