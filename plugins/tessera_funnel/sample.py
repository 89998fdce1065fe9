"""Seeded demo data for the funnel: deals moving through the stages over the last year, with their
stage history and the calls, visits and meetings behind them."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from tessera_funnel.stages import DEFAULT_STAGES

PER_ACCOUNT = 50
OPEN = [s["stage"] for s in DEFAULT_STAGES if s["kind"] == "open"]
ADVANCE = 0.62
"""Chance a deal moves on from an open stage (otherwise it is lost there, or still open)."""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _path(rng: random.Random, now: datetime) -> list[tuple[str, datetime]]:
    """The stages one deal entered, with when, ending in an open stage, closedWon or closedLost."""
    when = now - timedelta(days=rng.randint(20, 360), hours=rng.randint(0, 23))
    path = [(OPEN[0], when)]
    for index in range(len(OPEN)):
        when = when + timedelta(days=rng.randint(2, 25), hours=rng.randint(0, 23))
        if when >= now:
            return path
        roll = rng.random()
        if roll < ADVANCE:
            path.append((OPEN[index + 1] if index + 1 < len(OPEN) else "closedWon", when))
        elif roll < ADVANCE + 0.22:
            path.append(("closedLost", when))
            return path
        else:
            return path
    return path


def generate(context: Any) -> None:
    rng = random.Random(context.seed * 7919 + 17)
    now = datetime.now(UTC).replace(microsecond=0)
    accounts = [a["id"] for a in context.records("account", fields=["id"])]
    if not accounts:
        return
    deals: list[dict[str, Any]] = []
    paths: list[list[tuple[str, datetime]]] = []
    for number in range(PER_ACCOUNT * max(context.size, 1)):
        path = _path(rng, now)
        stage, entered = path[-1]
        amount = rng.choice([8, 12, 20, 35, 50, 80, 120, 200, 350]) * 1000 + rng.randint(0, 99) * 10
        close = entered + timedelta(days=rng.randint(10, 120)) if stage in OPEN else entered
        deals.append({"name": f"Funnel deal {number + 1:05d}", "account": rng.choice(accounts),
                      "amount": f"{amount}.00", "stage": stage, "stageEnteredAt": _iso(entered),
                      "closeDate": close.date().isoformat()})
        paths.append(path)
    ids = context.create("opportunity", deals)
    earlier: list[dict[str, Any]] = []
    activities: list[dict[str, Any]] = []
    for deal_id, deal, path in zip(ids, deals, paths, strict=True):
        for index in range(len(path) - 1):
            stage, entered = path[index]
            earlier.append({"opportunity": deal_id, "toStage": stage, "enteredAt": _iso(entered),
                            "leftAt": _iso(path[index + 1][1]), "amount": deal["amount"],
                            "fromStage": path[index - 1][0] if index else None})
        first, last = path[0][1], path[-1][1]
        for _ in range(rng.randint(0, 6)):
            kind = rng.choice(["call", "call", "visit", "meeting", "email"])
            done = first + (last - first) * rng.random() if last > first else first
            activities.append({
                "subject": f"{kind.title()} about {deal['name']}", "activityType": kind, "status": "completed",
                "completedAt": _iso(done), "dueAt": _iso(done), "opportunity": deal_id, "account": deal["account"],
                "durationMinutes": rng.randint(3, 45) if kind == "call" else rng.choice([30, 60, 90]),
                "effectiveFollowUp": rng.random() < 0.4,
            })
    context.create("stageHistory", earlier)
    context.create("activity", activities)

