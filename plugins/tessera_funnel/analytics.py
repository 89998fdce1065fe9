"""Funnel metrics, computed from records as the caller may read them (docs/scenarios/funnel.md
defines each). Pure functions over plain rows, so every figure can be checked by hand.

Periods are inclusive UTC dates: a moment belongs to ``[start, end]`` when its UTC date does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

Row = Mapping[str, Any]
CENT = Decimal("0.01")
DEFAULT_STALL_DAYS = 30


def moment(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    found = moment(value)
    return found.astimezone(UTC).date() if found else None


def money(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def _within(value: Any, start: date, end: date) -> bool:
    found = day(value)
    return found is not None and start <= found <= end


def _ratio(part: int, whole: int) -> Decimal | None:
    """A percentage with two decimals (10 means 10%), or None when there is nothing to divide."""
    return (Decimal(part) * 100 / whole).quantize(CENT) if whole else None


def _average_days(spans: Iterable[tuple[datetime, datetime]]) -> Decimal | None:
    days = [(b - a).total_seconds() / 86400 for a, b in spans]
    return (Decimal(str(sum(days))) / len(days)).quantize(CENT) if days else None


def kinds(stages: Sequence[Row]) -> dict[str, str]:
    return {s["stage"]: s["kind"] for s in stages}


def conversion(history: Sequence[Row], from_stage: str, to_stage: str, start: date, end: date) -> dict[str, Any]:
    """Of the opportunities that entered ``from_stage`` in the period (the cohort), how many entered
    ``to_stage`` afterwards (at any time up to now)."""
    entered: dict[str, datetime] = {}
    for row in history:
        when = moment(row["enteredAt"])
        if row["toStage"] == from_stage and _within(when, start, end):
            opp = row["opportunity"]
            entered[opp] = min(entered.get(opp, when), when)  # type: ignore[type-var]
    converted = {
        row["opportunity"] for row in history
        if row["toStage"] == to_stage and row["opportunity"] in entered
        and moment(row["enteredAt"]) >= entered[row["opportunity"]]  # type: ignore[operator]
    }
    return {"fromStage": from_stage, "toStage": to_stage, "cohort": len(entered), "converted": len(converted),
            "rate": _ratio(len(converted), len(entered))}


def closings(history: Sequence[Row], stages: Sequence[Row], start: date, end: date) -> dict[str, tuple[str, datetime]]:
    """Opportunities that entered a won or lost stage in the period: id → (kind, when) of the last one."""
    kind_of = kinds(stages)
    closed: dict[str, tuple[str, datetime]] = {}
    for row in history:
        kind = kind_of.get(row["toStage"])
        when = moment(row["enteredAt"])
        if kind in ("won", "lost") and _within(when, start, end):
            previous = closed.get(row["opportunity"])
            if previous is None or previous[1] <= when:  # type: ignore[operator]
                closed[row["opportunity"]] = (kind, when)  # type: ignore[assignment]
    return closed


def win_rate(history: Sequence[Row], stages: Sequence[Row], start: date, end: date) -> dict[str, Any]:
    """Won deals / (won + lost deals), over the deals closed in the period."""
    closed = closings(history, stages, start, end)
    won = sum(1 for kind, _ in closed.values() if kind == "won")
    lost = len(closed) - won
    return {"won": won, "lost": lost, "rate": _ratio(won, won + lost)}


def sales_cycle(opportunities: Sequence[Row], history: Sequence[Row], stages: Sequence[Row],
                start: date, end: date) -> dict[str, Any]:
    """Average days from entering the funnel (the first stage entered; the creation when no history
    says) to winning, over the deals won in the period."""
    created = {o["id"]: moment(o["createdAt"]) for o in opportunities}
    for row in history:
        when = moment(row["enteredAt"])
        opp = row["opportunity"]
        if opp in created and when is not None and (created[opp] is None or when < created[opp]):
            created[opp] = when
    spans = [(created[opp], when) for opp, (kind, when) in closings(history, stages, start, end).items()
             if kind == "won" and created.get(opp) is not None]
    return {"deals": len(spans), "averageDays": _average_days(spans)}  # type: ignore[arg-type]


def stage_durations(history: Sequence[Row], stages: Sequence[Row], start: date, end: date) -> list[dict[str, Any]]:
    """Per stage, in funnel order: how many stays ended in the period, and their average length in days."""
    spans: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for row in history:
        left = moment(row.get("leftAt"))
        if left is not None and _within(left, start, end):
            spans[row["toStage"]].append((moment(row["enteredAt"]), left))  # type: ignore[arg-type]
    ordered = sorted(stages, key=lambda s: s["position"])
    return [{"stage": s["stage"], "exits": len(spans.get(s["stage"], [])),
             "averageDays": _average_days(spans.get(s["stage"], []))} for s in ordered]


def _probability(opportunity: Row, stage_of: Mapping[str, Row]) -> Decimal:
    if opportunity.get("probability") not in (None, ""):
        return money(opportunity["probability"])
    return money(stage_of.get(opportunity["stage"], {}).get("probability"))


def _open(opportunities: Sequence[Row], stages: Sequence[Row]) -> list[Row]:
    kind_of = kinds(stages)
    return [o for o in opportunities if kind_of.get(o["stage"], "open") == "open"]


def pipeline(opportunities: Sequence[Row], stages: Sequence[Row]) -> dict[str, Any]:
    """Open deals: how many, their amount, and the amount weighted by probability (the deal's own, or
    its stage's default)."""
    stage_of = {s["stage"]: s for s in stages}
    deals = _open(opportunities, stages)
    amount = sum((money(o["amount"]) for o in deals), Decimal(0))
    weighted = sum((money(o["amount"]) * _probability(o, stage_of) / 100 for o in deals), Decimal(0))
    return {"deals": len(deals), "amount": amount.quantize(CENT), "weighted": weighted.quantize(CENT)}


def forecast(opportunities: Sequence[Row], stages: Sequence[Row]) -> list[dict[str, Any]]:
    """Open deals by close month (``YYYY-MM``; deals without a close date last, as ``none``)."""
    stage_of = {s["stage"]: s for s in stages}
    months: dict[str, list[Row]] = defaultdict(list)
    for o in _open(opportunities, stages):
        close = day(o.get("closeDate"))
        months[close.strftime("%Y-%m") if close else "none"].append(o)
    return [
        {"month": month, "deals": len(deals),
         "amount": sum((money(o["amount"]) for o in deals), Decimal(0)).quantize(CENT),
         "weighted": sum((money(o["amount"]) * _probability(o, stage_of) / 100 for o in deals),
                         Decimal(0)).quantize(CENT)}
        for month, deals in sorted(months.items(), key=lambda item: (item[0] == "none", item[0]))
    ]


def stalled(opportunities: Sequence[Row], stages: Sequence[Row], activities: Sequence[Row],
            as_of: datetime) -> list[dict[str, Any]]:
    """Open deals whose last stage change and last completed activity are both older than their
    stage's ``stallDays`` (30 when the stage has none), longest idle first."""
    stage_of = {s["stage"]: s for s in stages}
    last_activity: dict[str, datetime] = {}
    for a in activities:
        if a.get("status") != "completed":
            continue  # planned or cancelled work does not move a deal
        when = moment(a.get("completedAt"))
        opp = a.get("opportunity")
        if opp and when and when <= as_of and (opp not in last_activity or last_activity[opp] < when):
            last_activity[opp] = when
    found = []
    for o in _open(opportunities, stages):
        moments = [m for m in (moment(o.get("stageEnteredAt")) or moment(o.get("createdAt")),
                               last_activity.get(o["id"])) if m is not None]
        idle = (as_of - max(moments)).total_seconds() / 86400 if moments else 0
        limit = stage_of.get(o["stage"], {}).get("stallDays") or DEFAULT_STALL_DAYS
        if idle > limit:
            found.append({"id": o["id"], "name": o["name"], "stage": o["stage"], "owner": o.get("owner"),
                          "idleDays": int(idle), "stallDays": limit})
    return sorted(found, key=lambda d: (-d["idleDays"], d["name"]))


def scorecard(opportunities: Sequence[Row], history: Sequence[Row], stages: Sequence[Row],
              activities: Sequence[Row], start: date, end: date) -> list[dict[str, Any]]:
    """Per owner: completed visits, calls, call minutes, meetings and effective follow-ups in the
    period, with the deals they won or lost in it (won amount, win rate)."""
    cards: dict[str, dict[str, Any]] = defaultdict(lambda: {
        "visits": 0, "calls": 0, "callMinutes": 0, "meetings": 0, "effectiveFollowUps": 0,
        "wonDeals": 0, "lostDeals": 0, "wonAmount": Decimal(0)})
    for a in activities:
        if a.get("status") != "completed" or not _within(a.get("completedAt"), start, end) or not a.get("owner"):
            continue
        card = cards[a["owner"]]
        kind = a.get("activityType")
        if kind == "visit":
            card["visits"] += 1
        elif kind == "call":
            card["calls"] += 1
            card["callMinutes"] += int(a.get("durationMinutes") or 0)
        elif kind == "meeting":
            card["meetings"] += 1
        if a.get("effectiveFollowUp"):
            card["effectiveFollowUps"] += 1
    owner_of = {o["id"]: o for o in opportunities}
    for opp, (kind, _) in closings(history, stages, start, end).items():
        deal = owner_of.get(opp)
        if deal is None or not deal.get("owner"):
            continue
        card = cards[deal["owner"]]
        if kind == "won":
            card["wonDeals"] += 1
            card["wonAmount"] += money(deal["amount"])
        else:
            card["lostDeals"] += 1
    return [
        {"owner": owner, **card, "wonAmount": card["wonAmount"].quantize(CENT),
         "winRate": _ratio(card["wonDeals"], card["wonDeals"] + card["lostDeals"])}
        for owner, card in sorted(cards.items())
    ]
