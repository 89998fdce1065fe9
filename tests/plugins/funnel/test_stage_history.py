"""Stage history, written by the funnel's ``before_record_write``: one row per stage an opportunity
enters, the previous one closed when it moves on, in the write's transaction and with its owner."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

OPPORTUNITY = "query($id: ID!) { opportunity(id: $id) { stageEnteredAt updatedAt createdAt owner { id } } }"
RECORD_HISTORY = ('query($o: String!, $id: ID!) { recordHistory(object: $o, id: $id) '
                  '{ action field newValue channel } }')
BULK = "mutation($d: [OpportunityCreateInput!]!) { createOpportunities(data: $d) { id stage } }"
DELETE = "mutation($id: ID!) { deleteOpportunity(id: $id) { id } }"
RESTORE = "mutation($id: ID!) { restoreOpportunity(id: $id) { id } }"
ALL_HISTORY = "query { stageHistories { totalCount } }"


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_creating_with_a_given_stage_entered_at_opens_one_row_at_that_moment(funnel: Any) -> None:
    deal = funnel.opportunity("Given", "qualification", "2025-01-05T12:00:00Z", amount="30000.00")
    rows = funnel.history(deal)
    assert [(r["fromStage"], r["toStage"], r["leftAt"], r["durationDays"], r["amount"]) for r in rows] == [
        (None, "qualification", None, None, "30000.00")]
    assert _moment(rows[0]["enteredAt"]) == datetime(2025, 1, 5, 12, tzinfo=UTC)
    # the opportunity keeps the moment it was given
    stored = funnel.query(OPPORTUNITY, {"id": deal})["opportunity"]
    assert _moment(stored["stageEnteredAt"]) == datetime(2025, 1, 5, 12, tzinfo=UTC)


def test_creating_without_stage_entered_at_uses_the_moment_of_the_write_and_stamps_it(funnel: Any) -> None:
    before = datetime.now(UTC)
    deal = funnel.opportunity("Now", "prospecting")
    stored = funnel.query(OPPORTUNITY, {"id": deal})["opportunity"]
    rows = funnel.history(deal)
    assert [(r["fromStage"], r["toStage"], r["leftAt"]) for r in rows] == [(None, "prospecting", None)]
    entered = _moment(rows[0]["enteredAt"])
    assert entered == _moment(stored["stageEnteredAt"]) == _moment(stored["createdAt"])
    assert before.replace(microsecond=0) <= entered <= datetime.now(UTC)
    # the stamp is the plugin's write, recorded as such in the opportunity's field history
    history = funnel.query(RECORD_HISTORY, {"o": "opportunity", "id": deal})["recordHistory"]
    stamps = [h for h in history if h["field"] == "stageEnteredAt"]
    assert [h["channel"] for h in stamps] == ["plugin"]
    assert {(h["action"], h["channel"]) for h in history if h["field"] == "stage"} == {("CREATE", "api")}
    # and so is the history row
    row_history = funnel.query(RECORD_HISTORY, {"o": "stageHistory", "id": rows[0]["id"]})["recordHistory"]
    assert row_history and {(h["action"], h["channel"]) for h in row_history} == {("CREATE", "plugin")}


def test_each_stage_change_closes_the_open_row_and_opens_the_next(funnel: Any) -> None:
    deal = funnel.opportunity("Mover", "prospecting", "2025-01-01T00:00:00Z", amount="5000.00")
    funnel.move(deal, "qualification", "2025-01-11T12:00:00Z")
    funnel.move(deal, "proposal", "2025-01-15T00:00:00Z")
    rows = funnel.history(deal)
    assert [(r["fromStage"], r["toStage"], r["enteredAt"][:19], (r["leftAt"] or "")[:19], r["durationDays"])
            for r in rows] == [
        (None, "prospecting", "2025-01-01T00:00:00", "2025-01-11T12:00:00", "10.50"),
        ("prospecting", "qualification", "2025-01-11T12:00:00", "2025-01-15T00:00:00", "3.50"),
        ("qualification", "proposal", "2025-01-15T00:00:00", "", None),
    ]
    # a stage change without stageEnteredAt happens at the moment of the write
    before = datetime.now(UTC).replace(microsecond=0)
    moved = funnel.move(deal, "negotiation")
    stored = funnel.query(OPPORTUNITY, {"id": deal})["opportunity"]
    rows = funnel.history(deal)
    assert [(r["fromStage"], r["toStage"]) for r in rows][-2:] == [("qualification", "proposal"),
                                                                    ("proposal", "negotiation")]
    assert _moment(rows[-2]["leftAt"]) == _moment(rows[-1]["enteredAt"]) == _moment(stored["stageEnteredAt"])
    # the moment of the write (the plugin's own stamp, a second write in the same transaction, may
    # move updatedAt a little later)
    assert before <= _moment(rows[-1]["enteredAt"]) <= _moment(stored["updatedAt"]) <= datetime.now(UTC)
    assert _moment(moved["stageEnteredAt"]) >= datetime(2025, 1, 15, tzinfo=UTC)
    assert [r["leftAt"] is None for r in rows] == [False, False, False, True]
    history = funnel.query(RECORD_HISTORY, {"o": "opportunity", "id": deal})["recordHistory"]
    assert [h["channel"] for h in history if h["field"] == "stageEnteredAt" and h["action"] == "UPDATE"][-1] == "plugin"


def test_updates_that_do_not_touch_the_stage_write_no_history(funnel: Any) -> None:
    deal = funnel.opportunity("Still", "proposal", "2025-02-01T00:00:00Z")
    update = "mutation($id: ID!) { updateOpportunity(id: $id, data: {amount: \"777.00\", nextStep: \"Call\"}) { id } }"
    funnel.query(update, {"id": deal})
    # nor does writing the stage it already has
    funnel.query('mutation($id: ID!) { updateOpportunity(id: $id, data: {stage: "proposal"}) { id } }', {"id": deal})
    rows = funnel.history(deal)
    assert [(r["toStage"], r["leftAt"]) for r in rows] == [("proposal", None)]
    stored = funnel.query(OPPORTUNITY, {"id": deal})["opportunity"]
    assert _moment(stored["stageEnteredAt"]) == datetime(2025, 2, 1, tzinfo=UTC)


def test_history_rows_belong_to_the_opportunitys_owner(funnel: Any) -> None:
    rep, _ = funnel.user("rep@example.com")
    deal = funnel.opportunity("Owned", "prospecting", "2025-01-01T00:00:00Z", owner=rep)
    funnel.move(deal, "qualification", "2025-01-03T00:00:00Z")
    rows = funnel.history(deal)
    assert [r["owner"]["id"] for r in rows] == [rep, rep]
    assert funnel.query(OPPORTUNITY, {"id": deal})["opportunity"]["owner"]["id"] == rep


def test_a_bulk_create_writes_one_row_per_opportunity(funnel: Any) -> None:
    data = [{"name": f"Bulk {n}", "stage": stage, "closeDate": "2025-06-30", "stageEnteredAt": entered}
            for n, (stage, entered) in enumerate([("prospecting", "2025-01-01T00:00:00Z"),
                                                  ("proposal", "2025-01-02T00:00:00Z"),
                                                  ("closedWon", "2025-01-03T00:00:00Z")])]
    created = funnel.query(BULK, {"d": data})["createOpportunities"]
    assert len(created) == 3
    for deal, (stage, day) in zip(created, [("prospecting", 1), ("proposal", 2), ("closedWon", 3)], strict=True):
        rows = funnel.history(deal["id"])
        assert [(r["fromStage"], r["toStage"]) for r in rows] == [(None, stage)]
        assert _moment(rows[0]["enteredAt"]) == datetime(2025, 1, day, tzinfo=UTC)
    assert funnel.query(ALL_HISTORY)["stageHistories"]["totalCount"] == 3


def test_deleting_an_opportunity_cascades_to_its_history_and_restoring_brings_it_back(funnel: Any) -> None:
    deal = funnel.opportunity("Doomed", "prospecting", "2025-01-01T00:00:00Z")
    funnel.move(deal, "qualification", "2025-01-02T00:00:00Z")
    keep = funnel.opportunity("Kept", "proposal", "2025-01-01T00:00:00Z")
    assert funnel.query(ALL_HISTORY)["stageHistories"]["totalCount"] == 3
    funnel.query(DELETE, {"id": deal})
    assert funnel.history(deal) == []
    assert funnel.query(ALL_HISTORY)["stageHistories"]["totalCount"] == 1
    assert len(funnel.history(keep)) == 1
    funnel.query(RESTORE, {"id": deal})
    rows = funnel.history(deal)
    assert [(r["fromStage"], r["toStage"], r["leftAt"] is None) for r in rows] == [
        (None, "prospecting", False), ("prospecting", "qualification", True)]
    # the restore is not a stage change: no new row
    assert funnel.query(ALL_HISTORY)["stageHistories"]["totalCount"] == 3
