"""Conversions, opportunities, stage history and rep tasks for the synthetic export.

Conversion (an opportunity for a lead and product group) is drawn from the hidden fit and
intent; everything the funnel shows afterwards (MQL → SAL → SQL → Opportunity, rep tasks)
is placed in time around that event, so point-in-time features see it coming but never see
the outcome itself before it happens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from leadctl import sample_vocab as V
from leadctl.sample_people import Leads, Users
from leadctl.sample_util import (
    DAY,
    SF_DATE,
    SF_DATETIME,
    bool_true,
    fmt_time,
    fmt_time_or_null,
    keep,
    pick,
    ragged,
    sf_ids,
    sigmoid,
    take,
    to_frame,
)

# Intercept of the conversion logit: tuned so ~10-20 % of leads convert in some group by export.
CONVERSION_BIAS = -2.7
CROSS_SELL = 0.3  # chance a converted lead later opens each other product group
(INQ, MQL, SAL, SQL, OPP, WON, LOST, REC, DQ) = range(9)


@dataclass
class Conversions:
    converted: np.ndarray  # (n, pg) bool: opportunity created before export
    opp_time: np.ndarray  # (n, pg) epoch seconds (meaningful where converted)


def draw_conversions(rng: np.random.Generator, leads: Leads, export: int) -> Conversions:
    """Each (lead, product group) converts with sigmoid(fit + intent + custom fields - negatives).
    Half of the buyers are quick (gamma delay, weeks after creation), half open a buying window
    at a uniform time within two years (long nurture); what would happen after export is
    censored. Land and expand: a buyer often opens a second group a few months after the first
    (more positive examples without more leads converting)."""
    logit = CONVERSION_BIAS + 0.9 * leads.fit + 1.1 * leads.intent + leads.extra[:, None]
    will = rng.random(logit.shape) < sigmoid(logit)
    quick = rng.random(logit.shape) < 0.5
    delay_days = 3 + np.where(quick, rng.gamma(1.3, 50, logit.shape), rng.random(logit.shape) * 700)
    opp_time = leads.created[:, None] + (delay_days * DAY).astype(np.int64)
    converted = will & (opp_time < export - 3600)
    first = np.where(converted, opp_time, np.iinfo(np.int64).max).min(axis=1, keepdims=True)
    expand_at = first + ((20 + rng.gamma(1.5, 60, logit.shape)) * DAY).astype(np.int64)
    expand = ~converted & (first < export) & (rng.random(logit.shape) < CROSS_SELL)
    expand &= expand_at < export - 3600
    opp_time = np.where(expand, expand_at, opp_time)
    return Conversions(converted | expand, opp_time)


def make_opportunities(
    rng: np.random.Generator,
    leads: Leads,
    conv: Conversions,
    n_pg: int,
    export: int,
    *,
    shard: int = 0,
) -> tuple[pl.DataFrame, dict]:
    """One opportunity per converted (lead, product group); ~60 % closed, ~35 % of those won."""
    li, pg = np.nonzero(conv.converted)
    created = conv.opp_time[li, pg]
    order = np.argsort(created, kind="stable")
    li, pg, created = li[order], pg[order], created[order]
    n = len(li)
    close = created + ((15 + rng.gamma(2.0, 75, n)) * DAY).astype(np.int64)
    closed = close < export
    won = closed & (
        rng.random(n) < sigmoid(-1.5 + 0.4 * leads.fit[li, pg] + 0.3 * leads.intent[li, pg])
    )
    age = (export - created) / DAY
    open_stage = np.where(age < 20, 0, np.where(age < 60, 1, 2))
    open_stage = np.clip(open_stage + rng.integers(-1, 2, n), 0, 2)
    stage = np.where(closed, np.where(won, 3, 4), open_stage)
    band = np.searchsorted(V.SIZE_EDGES, leads.employees[li], side="right")
    amount = 18_000 * (1.6**band) * np.exp(rng.normal(0, 0.6, n))
    amount = (np.clip(amount, 5_000, 500_000) // 100 * 100).astype(np.int64)
    frame = to_frame(
        {
            "Id": sf_ids("006", n, rng, shard),
            "AccountId": leads.frame["Account__c"].gather(li),
            "Primary_Lead__c": leads.ids.gather(li),
            "Product_Group__c": take(V.PRODUCT_GROUPS[:n_pg], pg),
            "CreatedDate": fmt_time(created, SF_DATETIME),
            "CloseDate": fmt_time_or_null(close, closed, SF_DATE),
            "StageName": take(V.OPEN_OPP_STAGES + ["Closed Won", "Closed Lost"], stage),
            "IsWon": bool_true(won),
            "IsClosed": bool_true(closed),
            "Amount": amount,
        }
    )
    close_at = np.full(conv.converted.shape, -1, np.int64)
    won_at = np.zeros(conv.converted.shape, bool)
    close_at[li, pg] = np.where(closed, close, -1)
    won_at[li, pg] = won
    return frame, {"close": close_at, "won": won_at}


def _reasons(rng: np.random.Generator, n: int, weights: list[float]) -> np.ndarray:
    """Reason codes: REASONS index, or len(REASONS) = empty, len+1.. = free text (on purpose)."""
    r = pick(rng, n, weights)
    u = rng.random(n)
    k = len(V.REASONS)
    return np.where(
        u < 0.08, k, np.where(u < 0.12, k + 1 + rng.integers(0, len(V.FREE_TEXT_REASONS), n), r)
    )


def make_history(
    rng: np.random.Generator, leads: Leads, conv: Conversions, opp: dict, users: Users, export: int
) -> tuple[dict, dict]:
    """Stage history per worked (lead, product group) pair, plus who owns each pair and when it
    was accepted (SAL) — the tasks and the lead's current stage/owner are derived from it."""
    n, n_pg = conv.converted.shape
    primary = np.argmax(leads.intent, axis=1)
    extra_l, extra_p = np.nonzero(conv.converted & (np.arange(n_pg)[None, :] != primary[:, None]))
    pl_, pp = np.r_[np.arange(n), extra_l], np.r_[primary, extra_p]
    P = len(pl_)
    t0 = leads.created[pl_]
    c = conv.converted[pl_, pp]
    ot = conv.opp_time[pl_, pp]
    f, it = leads.fit[pl_, pp], leads.intent[pl_, pp]
    fl = {k: v[pl_] for k, v in leads.flags.items()}
    u = rng.random((8, P))
    ev_pair, ev_stage, ev_time, ev_reason = [], [], [], []

    def emit(
        mask: np.ndarray, stage: int, time: np.ndarray, reason: np.ndarray | None = None
    ) -> None:
        idx = np.flatnonzero(mask)
        ev_pair.append(idx)
        ev_stage.append(np.full(len(idx), stage))
        ev_time.append(time[idx])
        ev_reason.append(np.full(len(idx), -1) if reason is None else reason[idx])

    emit(np.ones(P, bool), INQ, t0)
    # Converters: MQL → SAL → SQL → Opportunity (→ Won / Lost) in the weeks before the opportunity.
    lead_in = np.minimum(30 * DAY, (ot - t0) * 0.8) * (0.3 + 0.7 * u[0])
    m_c = (ot - lead_in).astype(np.int64)
    s_c = (m_c + (ot - m_c) * (0.05 + 0.25 * u[1])).astype(np.int64)
    q_c = (s_c + (ot - s_c) * (0.3 + 0.6 * u[2])).astype(np.int64)
    close = opp["close"][pl_, pp]
    won = opp["won"][pl_, pp]
    emit(c, MQL, m_c)
    emit(c, SAL, s_c)
    emit(c, SQL, q_c)
    emit(c, OPP, ot)
    emit(c & (close > 0) & won, WON, close)
    emit(c & (close > 0) & ~won, LOST, close, _reasons(rng, P, V.LOST_REASON_W))
    # Non-converters: direct disqualification for obvious junk, else a chance of MQL and SAL.
    span = export - t0
    junk = (
        (fl["student"] & (u[3] < 0.4))
        | (fl["competitor"] & (u[3] < 0.7))
        | (fl["dup"] & (u[3] < 0.5))
        | (fl["bounced"] & (u[3] < 0.3))
    )
    t_dq = t0 + ((1 + 19 * u[4]) * DAY).astype(np.int64)
    junk &= ~c & (t_dq < export)
    junk_reason = np.select(
        [fl["competitor"], fl["student"], fl["dup"]],
        [V.REASONS.index("Competitor"), V.REASONS.index("Student"), V.REASONS.index("Duplicate")],
        V.REASONS.index("Bad contact data"),
    )
    emit(junk, DQ, t_dq, junk_reason)
    mql = ~c & ~junk & (u[5] < sigmoid(-1.6 + 0.5 * f + 0.9 * it))
    m_n = t0 + (span * u[6] * 0.9).astype(np.int64)
    emit(mql, MQL, m_n)
    s_n = m_n + (rng.exponential(1.5, P) * DAY).astype(np.int64)
    sal = mql & (u[7] < 0.65) & (s_n < export)
    nurture_back = mql & ~sal & (rng.random(P) < 0.5)
    t_back = m_n + ((30 + 90 * rng.random(P)) * DAY).astype(np.int64)
    emit(nurture_back & (t_back < export), REC, t_back, _reasons(rng, P, [0, 0, 0, 1, 0, 0, 0, 0]))
    emit(sal, SAL, s_n)
    outcome = rng.random(P)
    t_out = s_n + ((7 + 83 * rng.random(P)) * DAY).astype(np.int64)
    resolved = sal & (t_out < export) & (outcome < 0.65)
    emit(resolved & (outcome < 0.35), REC, t_out, _reasons(rng, P, V.RECYCLE_REASON_W))
    emit(
        resolved & (outcome >= 0.35) & (outcome < 0.55),
        DQ,
        t_out,
        _reasons(rng, P, V.DISQUALIFY_REASON_W),
    )
    t_sql = s_n + ((3 + 17 * rng.random(P)) * DAY).astype(np.int64)
    sql_path = resolved & (outcome >= 0.55)
    emit(sql_path & (t_sql < t_out), SQL, t_sql)
    emit(sql_path, REC, t_out, _reasons(rng, P, V.RECYCLE_REASON_W))
    stays = sal & ~resolved
    zombie = stays & (s_n < export - 100 * DAY) & (rng.random(P) < 0.6)
    # Owners: a random SDR/AE of the team for (product group, region); inactive reps included.
    team = pp * len(V.TEAM_REGIONS) + leads.team_region[pl_]
    sizes = np.array([len(w) for w in users.workers])
    flat = np.concatenate(users.workers)
    offs = np.r_[0, np.cumsum(sizes)[:-1]]
    owner = flat[offs[team] + (rng.random(P) * sizes[team]).astype(np.int64)]
    accepted = c | sal
    sal_t = np.where(c, s_c, s_n)
    end = np.select(
        [c, resolved, zombie], [np.where(close > 0, close, export), t_out, sal_t + 14 * DAY], export
    )
    hist_idx = np.concatenate(ev_pair)
    times = np.concatenate(ev_time)
    stages = np.concatenate(ev_stage)
    reasons = np.concatenate(ev_reason)
    # Stage changes before acceptance are made by the team's queue owner (its manager).
    by_rep = (stages >= SAL) & (stages <= LOST) | (
        (stages >= REC) & accepted[hist_idx] & (times >= sal_t[hist_idx])
    )
    actor = np.where(by_rep, owner[hist_idx], users.managers[team[hist_idx]])
    order = np.lexsort((stages, times))
    hist_idx, times, stages, reasons, actor = (
        a[order] for a in (hist_idx, times, stages, reasons, actor)
    )
    all_reasons = V.REASONS + [None] + V.FREE_TEXT_REASONS
    has_reason = stages >= LOST
    frame = to_frame(
        {
            "LeadId": leads.ids.gather(pl_[hist_idx]),
            "Product_Group__c": take(V.PRODUCT_GROUPS[:n_pg], pp[hist_idx]),
            "Stage__c": take(V.STAGES, stages),
            "CreatedDate": fmt_time(times, SF_DATETIME),
            "CreatedById": users.ids.gather(actor),
            "Reason__c": keep(
                has_reason & (reasons >= 0), take(all_reasons, np.maximum(reasons, 0))
            ),
        }
    )
    pairs = {
        "lead": pl_,
        "pg": pp,
        "converted": c,
        "accepted": accepted,
        "sal_t": sal_t,
        "end": end,
        "owner": owner,
        "zombie": zombie,
        "bounced": fl["bounced"],
    }
    last = {"lead": pl_[hist_idx], "stage": stages, "time": times}
    return {"frame": frame, "last": last}, pairs


def make_tasks(
    rng: np.random.Generator,
    leads: Leads,
    pairs: dict,
    users: Users,
    export: int,
    *,
    shard: int = 0,
) -> pl.DataFrame:
    """Rep touches after acceptance: most start within hours, some breach the SLA by days,
    zombies stop after two weeks, converters get more and better-answered touches."""
    sel = np.flatnonzero(pairs["accepted"])
    conv, sal_t, end = pairs["converted"][sel], pairs["sal_t"][sel], pairs["end"][sel]
    k = len(sel)
    mode = rng.random(k)
    first = sal_t + np.where(
        mode < 0.75,
        rng.exponential(4 * 3600, k),
        np.where(mode < 0.92, (2 + 8 * rng.random(k)) * DAY, 10**12),
    ).astype(np.int64)
    count = np.where(conv, 2 + rng.poisson(4, k), 1 + rng.poisson(2.5, k))
    parent, pos = ragged(count)
    span = np.maximum(end[parent] - first[parent], 0)
    t = first[parent] + np.where(pos == 0, 0, rng.random(len(parent)) * span).astype(np.int64)
    keep = (t < end[parent]) & (t < export) & (first[parent] < export)
    parent, t = parent[keep], t[keep]
    m = len(t)
    ttype = pick(rng, m, V.TASK_TYPE_SHARE)
    good = conv[parent]
    u = rng.random(m)
    bounced = pairs["bounced"][sel][parent]
    disp = np.select(
        [ttype == 0, ttype == 1, ttype == 2],
        [
            np.where(u < np.where(good, 0.45, 0.2), 0, np.where(u < 0.8, 1, 2)),
            np.where(
                bounced & (u < 0.6),
                4,
                np.where(u < np.where(good, 0.35, 0.1), 3, np.where(u < 0.13, 4, 1)),
            ),
            np.full(m, 2),
        ],
        np.where(u < np.where(good, 0.3, 0.1), 3, 1),
    )
    order = np.argsort(t, kind="stable")
    parent, t, ttype, disp = parent[order], t[order], ttype[order], disp[order]
    return to_frame(
        {
            "Id": sf_ids("00T", m, rng, shard),
            "WhoId": leads.ids.gather(pairs["lead"][sel][parent]),
            "OwnerId": users.ids.gather(pairs["owner"][sel][parent]),
            "Type": take(V.TASK_TYPES, ttype),
            "CreatedDate": fmt_time(t, SF_DATETIME),
            "CallDisposition": take(V.DISPOSITIONS, disp),
        }
    )


def lead_outcomes(
    leads: Leads, conv: Conversions, hist: dict, pairs: dict, users: Users
) -> pl.DataFrame:
    """The lead's current stage (its latest stage change), owner (latest acceptance),
    IsConverted and ConvertedDate — the fields a CRM keeps on the lead itself."""
    n = len(leads.created)
    last = hist["last"]
    order = np.lexsort((last["time"], last["lead"]))
    is_last = np.r_[last["lead"][order][1:] != last["lead"][order][:-1], True]
    stage = np.zeros(n, np.int64)
    stage[last["lead"][order][is_last]] = last["stage"][order][is_last]
    acc = np.flatnonzero(pairs["accepted"])
    o = acc[np.lexsort((pairs["sal_t"][acc], pairs["lead"][acc]))]
    is_last = np.r_[pairs["lead"][o][1:] != pairs["lead"][o][:-1], True]
    owner = np.full(n, -1)
    owner[pairs["lead"][o][is_last]] = pairs["owner"][o][is_last]
    first_opp = np.where(conv.converted, conv.opp_time, np.iinfo(np.int64).max).min(axis=1)
    converted = np.asarray(conv.converted.any(axis=1))
    return to_frame(
        {
            "Lifecycle_Stage__c": take(V.STAGES, stage),
            "OwnerId": keep(owner >= 0, users.ids.gather(np.maximum(owner, 0))),
            "IsConverted": bool_true(converted),
            "ConvertedDate": fmt_time_or_null(
                np.where(converted, first_opp, 0), converted, SF_DATE
            ),
        }
    )
