"""The default funnel stages (one per value of the standard opportunity stage picklist) and how stage
history is kept: a row per stage entered, closed when the opportunity moves on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_STAGES: tuple[dict[str, Any], ...] = (
    {"stage": "prospecting", "label": "Prospecting", "labelZh": "初步接洽", "position": 1, "probability": "10",
     "kind": "open", "stallDays": 14},
    {"stage": "qualification", "label": "Qualification", "labelZh": "需求确认", "position": 2, "probability": "20",
     "kind": "open", "stallDays": 21},
    {"stage": "needsAnalysis", "label": "Needs Analysis", "labelZh": "需求分析", "position": 3, "probability": "40",
     "kind": "open", "stallDays": 21},
    {"stage": "proposal", "label": "Proposal", "labelZh": "方案报价", "position": 4, "probability": "60",
     "kind": "open", "stallDays": 30},
    {"stage": "negotiation", "label": "Negotiation", "labelZh": "商务谈判", "position": 5, "probability": "80",
     "kind": "open", "stallDays": 30},
    {"stage": "closedWon", "label": "Closed Won", "labelZh": "赢单", "position": 6, "probability": "100",
     "kind": "won"},
    {"stage": "closedLost", "label": "Closed Lost", "labelZh": "输单", "position": 7, "probability": "0",
     "kind": "lost"},
)


def entered_at(created: bool, before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[Any, bool]:
    """When the opportunity entered its current stage, and whether ``stageEnteredAt`` must be set to it.

    A write that sets ``stageEnteredAt`` itself (imports, sample data) says when; otherwise it is the
    moment of the write, which the opportunity's ``stageEnteredAt`` then records.
    """
    given = after.get("stageEnteredAt")
    if given and (created or "stageEnteredAt" in before):
        return given, False
    return after.get("updatedAt"), True


def record_stage_changes(context: Any) -> None:
    """``before_record_write`` for opportunities: open a history row per stage entered, close the last."""
    if context.object != "opportunity":
        return
    opened: list[dict[str, Any]] = []
    for change in context.changes:
        after = change.after
        if not change.created and "stage" not in change.before:
            continue
        when, stamp = entered_at(change.created, change.before, after)
        if stamp:
            context.update("opportunity", change.id, {"stageEnteredAt": when})
        if not change.created:
            for row in context.records("stageHistory", fields=["id"], filter={
                    "opportunity": {"id": {"eq": change.id}}, "leftAt": {"isNull": True}}):
                context.update("stageHistory", row["id"], {"leftAt": when})
        opened.append({
            "opportunity": change.id, "fromStage": change.before.get("stage"), "toStage": after["stage"],
            "enteredAt": when, "amount": after.get("amount"), "owner": after.get("owner"),
        })
    if opened:
        context.create("stageHistory", opened)
