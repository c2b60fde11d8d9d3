"""Marketo activity log for the synthetic export, generated in chunks of leads.

Activities are a time process per lead and product group: background noise for everybody
(decaying after the lead arrives), everyday product-group interest scaled by the hidden intent,
an intensifying high-intent burst in the ~60 days before each opportunity, look-alike bursts from
tire-kickers (so the signal is not perfect), and negative events (unsubscribe, bounce, spam).
Chunks are independent random streams, so 20 M rows never have to be in memory at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl

from leadctl import sample_vocab as V
from leadctl.sample_events import Conversions
from leadctl.sample_people import Leads
from leadctl.sample_util import DAY, MKTO_DATETIME, keep, pick, rng_for, sigmoid, take, to_frame

CHUNK_LEADS = 50_000
YEAR = 365 * DAY


class _AssetTable:
    """Flat (asset, campaign) table indexed by (activity type, product group or generic)."""

    def __init__(self, n_pg: int) -> None:
        pgs = V.PRODUCT_GROUPS[:n_pg]
        rows: list[tuple[int, int, str, str | None]] = [
            (t, -1, a, c) for t, a, c in V.ASSETS_GENERIC
        ]
        for p, name in enumerate(pgs):
            topics = V.WEBINAR_TOPICS[name]
            for t, a, c in V.ASSETS_PG:
                asset = a.format(pg=name, topic0=topics[0], topic1=topics[1])
                rows.append((t, p, asset, None if c is None else c.format(pg=name)))
        self.width = n_pg + 1
        keys = np.array([t * self.width + p + 1 for t, p, _, _ in rows])
        order = np.argsort(keys, kind="stable")
        self.asset = pl.Series([rows[i][2] for i in order], dtype=pl.String)
        self.campaign = pl.Series([rows[i][3] for i in order], dtype=pl.String)
        sk = keys[order]
        n_keys = len(V.ACTIVITY_TYPES) * self.width
        self.start = np.searchsorted(sk, np.arange(n_keys), side="left")
        self.count = np.searchsorted(sk, np.arange(n_keys), side="right") - self.start

    def pick(self, rng: np.random.Generator, atype: np.ndarray, pg: np.ndarray) -> np.ndarray:
        key = atype * self.width + pg + 1
        return self.start[key] + (rng.random(len(key)) * self.count[key]).astype(np.int64)


def _mix(rng: np.random.Generator, n: int, mix: dict[int, float]) -> np.ndarray:
    types = np.array(list(mix))
    return types[pick(rng, n, list(mix.values()))]


def _chunk(
    rng: np.random.Generator, leads: Leads, conv: Conversions, lo: int, hi: int, export: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(lead index, epoch seconds, activity type, product group or -1) for leads [lo, hi)."""
    t0 = leads.created[lo:hi]
    m = hi - lo
    n_pg = leads.intent.shape[1]
    g = leads.engagement[lo:hi]
    life = (export - t0).astype(np.float64)
    intent = leads.intent[lo:hi]
    primary = np.argmax(intent, axis=1)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(lead: np.ndarray, t: np.ndarray, atype: np.ndarray, pg: np.ndarray) -> None:
        ok = (t >= t0[lead]) & (t < export)
        parts.append((lead[ok], t[ok].astype(np.int64), atype[ok], pg[ok]))

    # 1. Background noise: a welcome flurry that decays after creation, then a steady trickle.
    k = rng.poisson(g * 8.0)
    lead = np.repeat(np.arange(m), k)
    add(
        lead,
        t0[lead] + rng.exponential(90 * DAY, len(lead)),
        _mix(rng, len(lead), V.NOISE_MIX),
        np.full(len(lead), -1),
    )
    k = rng.poisson(g * 6.0 * life / YEAR)
    lead = np.repeat(np.arange(m), k)
    add(
        lead,
        t0[lead] + rng.random(len(lead)) * life[lead],
        _mix(rng, len(lead), V.NOISE_MIX),
        np.full(len(lead), -1),
    )
    # 2. Everyday product-group interest, scaled by hidden intent, spread over the lead's life.
    share = np.where(np.arange(n_pg)[None, :] == primary[:, None], 2.0, 0.6)
    rate = (
        share
        * np.exp(0.7 * intent)
        * g[:, None]
        * (0.4 + 1.6 * np.minimum(life / YEAR, 1.0))[:, None]
    )
    k = rng.poisson(rate).ravel()
    cell = np.repeat(np.arange(m * n_pg), k)
    lead, pg = cell // n_pg, cell % n_pg
    add(lead, t0[lead] + rng.random(len(lead)) * life[lead], _mix(rng, len(lead), V.TOPIC_MIX), pg)
    # 3. Converters: an intensifying high-intent burst in the ~60 days before the opportunity
    #    (density rises towards it, so the last weeks say most but the first still say something).
    cv = conv.converted[lo:hi]
    k = np.where(cv, 1 + rng.poisson(4.5, cv.shape), 0).ravel()
    cell = np.repeat(np.arange(m * n_pg), k)
    lead, pg = cell // n_pg, cell % n_pg
    t = conv.opp_time[lo:hi].ravel()[cell] - rng.beta(1.0, 1.5, len(cell)) * 60 * DAY
    add(lead, t, _mix(rng, len(lead), V.BURST_MIX), pg)
    # 4. Research episodes that lead nowhere by themselves: look-alike bursts at random times for
    #    anyone (more likely with intent; students and competitors love the pricing page).
    fl = {key: v[lo:hi] for key, v in leads.flags.items()}
    q = sigmoid(-2.8 + 0.5 * intent) + (0.15 * fl["student"] + 0.4 * fl["competitor"])[:, None]
    kick = rng.random(cv.shape) < q
    k = np.where(kick, 1 + rng.poisson(2.0, cv.shape), 0).ravel()
    center = t0[:, None] + rng.random(cv.shape) * life[:, None]
    cell = np.repeat(np.arange(m * n_pg), k)
    lead, pg = cell // n_pg, cell % n_pg
    t = center.ravel()[cell] - rng.beta(1.0, 2.0, len(cell)) * 45 * DAY
    add(lead, t, _mix(rng, len(lead), V.KICKER_MIX), pg)
    # 5. Negative events.
    for flag, neg_type, reach in (
        ("opt_out", V.UNSUB, 0.6),
        ("spam", V.SPAM, 0.6),
        ("bounced", V.BOUNCE, 0.3),
    ):
        lead = np.flatnonzero(fl[flag])
        add(
            lead,
            t0[lead] + rng.random(len(lead)) * reach * life[lead],
            np.full(len(lead), neg_type),
            np.full(len(lead), -1),
        )
    lead, t, atype, pg = (np.concatenate(x) for x in zip(*parts, strict=True))
    # Leads without an e-mail address cannot open or click e-mails: they browse instead.
    no_mail = fl["no_email"][lead] & ((atype == V.OPEN) | (atype == V.CLICK))
    atype = np.where(no_mail, V.VISIT, atype)
    order = np.lexsort((lead, t))
    return lead[order] + lo, t[order], atype[order], pg[order]


@dataclass
class ActivityIds:
    """Where the Marketo lead ids and activity GUIDs continue: the last lead id handed out and
    the next GUID number. Shards of one export share one, so ids stay unique across them."""

    marketo: int = 1000
    guid: int = 0


def activity_chunks(
    seed: int,
    leads: Leads,
    conv: Conversions,
    export: int,
    stream: int | tuple[int, ...],
    ids: ActivityIds | None = None,
) -> Iterator[pl.DataFrame]:
    """Yield the activity log chunk by chunk (leads in creation order, activities by time).

    `stream` keys the random streams (one int, or a tuple for a shard); `ids` is advanced past
    the ids used, chunk by chunk, so the next shard's log carries on from there."""
    key = stream if isinstance(stream, tuple) else (stream,)
    ids = ids if ids is not None else ActivityIds()
    n, n_pg = leads.intent.shape
    assets = _AssetTable(n_pg)
    marketo_id = ids.marketo + np.cumsum(rng_for(seed, *key, 0).integers(1, 4, n))
    ids.marketo = int(marketo_id[-1])
    pgs = V.PRODUCT_GROUPS[:n_pg]
    guid = ids.guid
    for c, lo in enumerate(range(0, n, CHUNK_LEADS)):
        rng = rng_for(seed, *key, c + 1)
        lead, t, atype, pg = _chunk(rng, leads, conv, lo, min(lo + CHUNK_LEADS, n), export)
        asset = assets.pick(rng, atype, pg)
        when = pl.from_epoch(pl.Series(t), time_unit="s")
        frame = to_frame(
            {
                "marketoGUID": pl.Series(np.arange(guid, guid + len(t)) + 10_000_000).cast(
                    pl.String
                ),
                "leadId": marketo_id[lead],
                "sfdcLeadId": leads.ids.gather(lead),
                "activityDate": when.dt.to_string(MKTO_DATETIME),
                "activityTypeName": take(V.ACTIVITY_TYPES, atype),
                "primaryAttributeValue": assets.asset.gather(asset),
                "productGroup": keep(pg >= 0, take(pgs, np.maximum(pg, 0))),
                "campaignName": pl.concat_str(
                    [
                        when.dt.year().cast(pl.String),
                        pl.lit("-Q"),
                        when.dt.quarter().cast(pl.String),
                        pl.lit(" "),
                        assets.campaign.gather(asset),
                    ]
                ),
            }
        )
        guid += len(t)
        ids.guid = guid
        yield frame
