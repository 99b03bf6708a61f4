"""The demo business: a seeded simulation of a subscription (telecom-style) company.

``simulate`` returns one row per active customer per monthly snapshot. Customers churn with a
probability that depends on their contract, tenure, support tickets, charges, usage and payment
method plus a hidden per-customer disposition, so a model can learn churn but never perfectly.
New customers join each month to replace those who left, which keeps the book roughly stable.

From snapshot ``DRIFT_MONTH`` on, region ``DRIFT_REGION`` gets a price increase, most of its
fixed-contract customers use the right to leave their contract that a price rise gives them, and
its customers become more price sensitive: the drift the monitoring pages are meant to catch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

DEFAULT_START = date(2024, 1, 1)

PLANS: tuple[str, ...] = ("Basic", "Standard", "Premium")
CONTRACTS: tuple[str, ...] = ("month-to-month", "one-year", "two-year")
REGIONS: tuple[str, ...] = ("North", "South", "East", "West")
PAYMENT_METHODS: tuple[str, ...] = ("card", "bank transfer", "electronic check", "paypal")

COLUMNS: tuple[str, ...] = (
    "customer_id",
    "snapshot_month",
    "name",
    "email",
    "phone",
    "plan",
    "contract_type",
    "region",
    "payment_method",
    "tenure_months",
    "monthly_charges",
    "usage_gb",
    "support_tickets",
    "churned",
)

# 1-based snapshot index from which the price increase and the extra price sensitivity apply.
DRIFT_MONTH = 18
DRIFT_REGION = "South"
PRICE_INCREASE = 0.20

FIRST_NAMES: tuple[str, ...] = (
    "Maria", "James", "Aisha", "Wei", "Olga", "Carlos", "Fatima", "John", "Priya", "Lucas",
    "Emma", "Kenji", "Sofia", "Ahmed", "Grace", "Mateo", "Ingrid", "David", "Amara", "Pavel",
    "Chloe", "Ravi", "Lena", "Omar", "Hannah", "Diego", "Yuki", "Noah", "Zara", "Tomas",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Lopez", "Smith", "Khan", "Chen", "Ivanova", "Garcia", "Hassan", "Brown", "Patel", "Silva",
    "Johnson", "Tanaka", "Rossi", "Ali", "Murphy", "Fernandez", "Larsen", "Miller", "Okafor",
    "Novak", "Martin", "Sharma", "Weber", "Haddad", "Clarke", "Torres", "Sato", "Wilson",
    "Mensah", "Kowalski",
)  # fmt: skip

# Mix of each categorical attribute among new customers, in the order of the tuples above.
_PLAN_P = np.array([0.40, 0.40, 0.20])
_CONTRACT_P = np.array([0.50, 0.27, 0.23])
_REGION_P = np.array([0.28, 0.25, 0.25, 0.22])
_PAYMENT_P = np.array([0.34, 0.24, 0.26, 0.16])

# Price list and data allowance per plan (Basic, Standard, Premium).
_PLAN_PRICE = np.array([29.0, 59.0, 92.0])
_PLAN_PRICE_SD = np.array([4.5, 7.0, 8.0])
_PLAN_USAGE_GB = np.array([8.0, 25.0, 60.0])

# Churn model (log-odds). Coefficients are chosen so the monthly rate is about 4% and a model
# on the observable columns reaches ROC AUC near 0.8: the hidden disposition caps it below 0.9.
_INTERCEPT = -3.3
_CONTRACT_EFFECT = np.array([1.10, -0.30, -1.10])
_PAYMENT_EFFECT = np.array([0.0, -0.15, 0.50, 0.05])
# Premium customers get better service and were the most loyal before the drift.
_PLAN_EFFECT = np.array([0.0, -0.10, -0.45])
_NEW_CUSTOMER_EFFECT = 1.1  # decays with tenure: the first months are the riskiest
_NEW_CUSTOMER_DECAY_MONTHS = 6.0
_TICKET_EFFECT = 0.35
_CHARGE_EFFECT = 0.02  # per currency unit billed above the plan's list price
_LOW_USAGE_EFFECT = 0.35  # per log-unit of usage below the plan's allowance
_LATENT_SD = 0.9
# Extra log-odds per currency unit above _DRIFT_PIVOT for the drift region after DRIFT_MONTH.
# The pivot sits above the raised Basic price, so the higher plans, formerly the most loyal,
# now leave most: that reverses what a model trained before the drift learnt about plans, and
# its ranking in the region degrades instead of merely shifting.
_DRIFT_CHARGE_EFFECT = 0.015
_DRIFT_PIVOT = 45.0
# A mid-contract price rise lets customers leave their fixed contracts without penalty: in the
# drift month this share of the region's one- and two-year customers become month-to-month.
# The model then sees the region's book crowd into its riskiest contract, where it ranks
# customers less surely: the drop its confidence-based estimate can see before labels arrive.
# Together, South's monthly churn rate about triples (3.7 % to 11-14 %); ROC AUC of a model
# trained before the drift falls in South from about 0.79 to 0.70 (its estimate to 0.77).
CONTRACT_RELEASE_SHARE = 0.7
# Months simulated, unrecorded, before the first snapshot, so the book starts in its steady
# state instead of losing its riskiest customers through the first recorded months.
_BURN_IN_MONTHS = 60


@dataclass(frozen=True)
class _Cohort:
    """Static attributes of a batch of customers, as integer codes and floats."""

    number: np.ndarray
    plan: np.ndarray
    contract: np.ndarray
    region: np.ndarray
    payment: np.ndarray
    base_charge: np.ndarray
    usage_level: np.ndarray
    ticket_rate: np.ndarray
    latent: np.ndarray
    first_name: np.ndarray
    last_name: np.ndarray
    tenure: np.ndarray


def _new_cohort(rng: np.random.Generator, size: int, first_number: int, joining: bool) -> _Cohort:
    """Return ``size`` new customers numbered from ``first_number``.

    ``joining`` customers start at tenure 1; the initial book gets a spread of tenures.
    """
    plan = rng.choice(len(PLANS), size=size, p=_PLAN_P)
    contract = rng.choice(len(CONTRACTS), size=size, p=_CONTRACT_P)
    region = rng.choice(len(REGIONS), size=size, p=_REGION_P)
    payment = rng.choice(len(PAYMENT_METHODS), size=size, p=_PAYMENT_P)
    base_charge = _PLAN_PRICE[plan] + rng.normal(0.0, 1.0, size) * _PLAN_PRICE_SD[plan]
    usage_level = _PLAN_USAGE_GB[plan] * rng.lognormal(0.0, 0.6, size)
    latent = rng.normal(0.0, _LATENT_SD, size)
    # Unhappy customers call support more, so tickets carry part of the hidden disposition.
    ticket_rate = rng.gamma(2.0, 0.22, size) * np.exp(0.35 * latent)
    first_name = rng.integers(len(FIRST_NAMES), size=size)
    last_name = rng.integers(len(LAST_NAMES), size=size)
    if joining:
        tenure = np.ones(size, dtype=np.int64)
    else:
        tenure = np.minimum(rng.geometric(1.0 / 22.0, size), 72).astype(np.int64)
    return _Cohort(
        number=np.arange(first_number, first_number + size, dtype=np.int64),
        plan=plan,
        contract=contract,
        region=region,
        payment=payment,
        base_charge=np.clip(base_charge, 18.0, 115.0),
        usage_level=usage_level,
        ticket_rate=ticket_rate,
        latent=latent,
        first_name=first_name,
        last_name=last_name,
        tenure=tenure,
    )


def _concat(a: _Cohort, b: _Cohort) -> _Cohort:
    """Return the customers of ``a`` followed by those of ``b``."""
    return _Cohort(
        **{f: np.concatenate([getattr(a, f), getattr(b, f)]) for f in _Cohort.__dataclass_fields__}
    )


def _select(c: _Cohort, keep: np.ndarray) -> _Cohort:
    """Return the customers of ``c`` where the boolean mask ``keep`` is true."""
    return _Cohort(**{f: getattr(c, f)[keep] for f in _Cohort.__dataclass_fields__})


def _churn_logit(
    active: _Cohort,
    charges: np.ndarray,
    usage: np.ndarray,
    tickets: np.ndarray,
    drifted: bool,
) -> np.ndarray:
    """Return each active customer's churn log-odds for this month."""
    allowance = _PLAN_USAGE_GB[active.plan]
    logit = (
        _INTERCEPT
        + _CONTRACT_EFFECT[active.contract]
        + _PAYMENT_EFFECT[active.payment]
        + _NEW_CUSTOMER_EFFECT * np.exp(-(active.tenure - 1) / _NEW_CUSTOMER_DECAY_MONTHS)
        + _TICKET_EFFECT * tickets
        + _PLAN_EFFECT[active.plan]
        + _CHARGE_EFFECT * (charges - _PLAN_PRICE[active.plan])
        + _LOW_USAGE_EFFECT * np.maximum(0.0, np.log(allowance / np.maximum(usage, 0.1)))
        + active.latent
    )
    if drifted:
        south = active.region == REGIONS.index(DRIFT_REGION)
        logit = logit + np.where(
            south, _DRIFT_CHARGE_EFFECT * np.maximum(0.0, charges - _DRIFT_PIVOT), 0.0
        )
    return logit


def month_starts(start: date, months: int) -> pd.DatetimeIndex:
    """Return the first day of each of ``months`` months from ``start``'s month."""
    first = pd.Timestamp(year=start.year, month=start.month, day=1)
    return pd.date_range(first, periods=months, freq="MS").as_unit("us")


def _text(values: list[str]) -> pd.api.extensions.ExtensionArray:
    """Return ``values`` as pandas' string array, which ``take`` indexes without copying text."""
    return pd.array(values, dtype="str")


# Per-row arrays collected month by month, concatenated once at the end.
_ROW_PARTS = (
    "number",
    "month",
    "plan",
    "contract",
    "region",
    "payment",
    "tenure",
    "charges",
    "usage",
    "tickets",
    "churned",
)


@dataclass(frozen=True)
class _Month:
    """What happened to the active customers in one month."""

    charges: np.ndarray
    usage: np.ndarray
    tickets: np.ndarray
    churned: np.ndarray


def _live_month(rng: np.random.Generator, active: _Cohort, drifted: bool) -> _Month:
    """Return this month's bills, usage, tickets and churn decisions for ``active``."""
    size = active.number.size
    # Small month-to-month wobble in the bill: add-ons, roaming, prorated changes.
    charges = np.clip(active.base_charge + rng.normal(0.0, 1.5, size), 18.0, 120.0)
    if drifted:
        south = active.region == REGIONS.index(DRIFT_REGION)
        charges = np.where(south, charges * (1.0 + PRICE_INCREASE), charges)
    charges = np.round(charges, 2)
    usage = np.round(active.usage_level * rng.lognormal(-0.03, 0.25, size), 2)
    tickets = rng.poisson(active.ticket_rate)
    logit = _churn_logit(active, charges, usage, tickets, drifted)
    churned = rng.random(size) < 1.0 / (1.0 + np.exp(-logit))
    return _Month(charges=charges, usage=usage, tickets=tickets, churned=churned)


def _release_contracts(active: _Cohort, rng: np.random.Generator) -> _Cohort:
    """The drift month's contract release: some fixed-contract customers in the drift region
    become month-to-month. Drawn from its own generator, so the main stream is untouched."""
    fixed = (active.region == REGIONS.index(DRIFT_REGION)) & (active.contract > 0)
    released = fixed & (rng.random(active.number.size) < CONTRACT_RELEASE_SHARE)
    return replace(active, contract=np.where(released, 0, active.contract))


def _next_book(active: _Cohort, churned: np.ndarray, joiners: _Cohort) -> _Cohort:
    """Return next month's book: the survivors one month older, then the joiners."""
    survivors = _select(active, ~churned)
    return _concat(replace(survivors, tenure=survivors.tenure + 1), joiners)


def simulate(
    seed: int = 42,
    customers: int = 42_000,
    months: int = 24,
    start: date = DEFAULT_START,
) -> pd.DataFrame:
    """Simulate the demo business and return its monthly customer snapshots.

    Returns one row per active customer per month, ordered by ``snapshot_month`` then
    ``customer_id``, with the columns in ``COLUMNS``. Exactly ``customers`` are active in the
    first month (ids ``C0000001`` upwards); ``churned`` is 1 when the customer leaves after that
    month and is then absent from later snapshots. The same arguments always return an
    identical frame.
    """
    if customers < 1 or months < 1:
        raise ValueError(
            f"simulate needs at least one customer and one month, got customers={customers}, "
            f"months={months}"
        )
    rng = np.random.default_rng(seed)
    active = _new_cohort(rng, customers, first_number=1, joining=False)
    everyone = [active]
    next_number = customers + 1
    for _ in range(_BURN_IN_MONTHS):
        month = _live_month(rng, active, drifted=False)
        # Exact replacement while warming up, so the first snapshot has exactly `customers`.
        joiners = _new_cohort(rng, int(month.churned.sum()), next_number, joining=True)
        next_number += joiners.number.size
        everyone.append(joiners)
        active = _next_book(active, month.churned, joiners)

    parts: dict[str, list[np.ndarray]] = {k: [] for k in _ROW_PARTS}
    for index in range(months):
        if index + 1 == DRIFT_MONTH:
            active = _release_contracts(active, np.random.default_rng([seed, DRIFT_MONTH]))
        month = _live_month(rng, active, drifted=index + 1 >= DRIFT_MONTH)
        size = active.number.size
        for key, values in (
            ("number", active.number),
            ("month", np.full(size, index, dtype=np.int64)),
            ("plan", active.plan),
            ("contract", active.contract),
            ("region", active.region),
            ("payment", active.payment),
            ("tenure", active.tenure),
            ("charges", month.charges),
            ("usage", month.usage),
            ("tickets", month.tickets),
            ("churned", month.churned.astype(np.int64)),
        ):
            parts[key].append(values)
        # Sales replaces roughly the customers who left, so the book stays about the same size.
        joiners = _new_cohort(rng, int(rng.poisson(month.churned.sum())), next_number, True)
        next_number += joiners.number.size
        everyone.append(joiners)
        active = _next_book(active, month.churned, joiners)

    rows = {k: np.concatenate(v) for k, v in parts.items()}
    frame = _assemble(rows, everyone, month_starts(start, months))
    logger.debug("simulated %d rows over %d months (seed %d)", len(frame), months, seed)
    return frame


def _assemble(
    rows: dict[str, np.ndarray], everyone: list[_Cohort], month_starts: pd.DatetimeIndex
) -> pd.DataFrame:
    """Return the snapshot frame built from per-row codes and per-customer attributes."""
    # Renumber the customers that appear in a snapshot 1..N in order of joining; those who
    # came and went during the warm-up never show up and so take no ids.
    seen = np.unique(rows["number"])
    who = np.searchsorted(seen, rows["number"])
    first = np.concatenate([c.first_name for c in everyone])[seen - 1]
    last = np.concatenate([c.last_name for c in everyone])[seen - 1]
    # Text is built once per customer (tens of thousands), then taken per row (a million).
    ids, names, emails, phones = [], [], [], []
    for n, f, la in zip(range(1, seen.size + 1), first.tolist(), last.tolist(), strict=True):
        given, family = FIRST_NAMES[f], LAST_NAMES[la]
        ids.append(f"C{n:07d}")
        names.append(f"{given} {family}")
        emails.append(f"{given.lower()}.{family.lower()}{n}@example.com")
        # 555-01xx numbers are reserved for fiction, so no real person is ever rung.
        phones.append(f"+1-555-01{(n // 10_000) % 10}-{n % 10_000:04d}")
    return pd.DataFrame(
        {
            "customer_id": _text(ids).take(who),
            "snapshot_month": month_starts.take(rows["month"]),
            "name": _text(names).take(who),
            "email": _text(emails).take(who),
            "phone": _text(phones).take(who),
            "plan": _text(list(PLANS)).take(rows["plan"]),
            "contract_type": _text(list(CONTRACTS)).take(rows["contract"]),
            "region": _text(list(REGIONS)).take(rows["region"]),
            "payment_method": _text(list(PAYMENT_METHODS)).take(rows["payment"]),
            "tenure_months": rows["tenure"],
            "monthly_charges": rows["charges"],
            "usage_gb": rows["usage"],
            "support_tickets": rows["tickets"].astype(np.int64),
            "churned": rows["churned"],
        },
        columns=list(COLUMNS),
    )
