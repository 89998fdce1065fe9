"""Validation rules through the GraphQL API: defining, changing and deleting them, the refusals of bad
definitions, and their enforcement on every create (one and bulk) and update of a record, with
ISNEW, ISCHANGED and PRIORVALUE, lookup paths, formula fields, inactive rules, rule order, and
IN_USE refusals of field changes that would break a rule."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tessera.model.registry import load_metadata
from tessera.services.metadata import delete_field, delete_validation_rule
from tessera.services.runtime import Actor, Runtime
from tessera.services.tenants import CreatedTenant
from tessera.testing import GraphQLClient, tenant_scope

RULE_SELECTION = "object name expression message zhMessage: message(locale: \"zh\") messages field active description origin"
CREATE_RULE = f"""
mutation($input: CreateValidationRuleInput!) {{ createValidationRule(input: $input) {{ {RULE_SELECTION} }} }}
"""
UPDATE_RULE = f"""
mutation($input: UpdateValidationRuleInput!) {{ updateValidationRule(input: $input) {{ {RULE_SELECTION} }} }}
"""
DELETE_RULE = """
mutation($input: DeleteValidationRuleInput!) { deleteValidationRule(input: $input) { name expression } }
"""
RULES = f"""
query($object: String!) {{ object(name: $object) {{ validationRules {{ {RULE_SELECTION} }} }} }}
"""
CREATE_FIELD = "mutation($input: CreateFieldInput!) { createField(input: $input) { name type } }"
UPDATE_FIELD = "mutation($input: UpdateFieldInput!) { updateField(input: $input) { name type } }"
DELETE_FIELD = "mutation($input: DeleteFieldInput!) { deleteField(input: $input) { name } }"
FIELD_NAMES = "query($object: String!) { object(name: $object) { fields { name } } }"
FIELD_TYPES = "query($object: String!) { object(name: $object) { fields { name type } } }"
CREATE_ACCOUNT = "mutation($data: AccountCreateInput!) { createAccount(data: $data) { id industry } }"
UPDATE_ACCOUNT = "mutation($id: ID!, $data: AccountUpdateInput!) { updateAccount(id: $id, data: $data) { id industry } }"
CREATE_OPPORTUNITY = """
mutation($data: OpportunityCreateInput!) {
  createOpportunity(data: $data) { id name opportunityNumber amount stage closeDate version } }
"""
CREATE_OPPORTUNITIES = """
mutation($data: [OpportunityCreateInput!]!) { createOpportunities(data: $data) { id name opportunityNumber } }
"""
UPDATE_OPPORTUNITY = """
mutation($id: ID!, $data: OpportunityUpdateInput!) {
  updateOpportunity(id: $id, data: $data) { id name amount stage closeDate version } }
"""
GET_OPPORTUNITY = "query($id: ID!) { opportunity(id: $id) { id name amount probability stage closeDate version } }"
DELETE_OPPORTUNITY = "mutation($id: ID!) { deleteOpportunity(id: $id) { id } }"
RESTORE_OPPORTUNITY = "mutation($id: ID!) { restoreOpportunity(id: $id) { id version } }"
COUNT_OPPORTUNITIES = "query($filter: OpportunityFilter) { opportunities(filter: $filter) { totalCount } }"

NO_REOPEN = 'AND(ISPICKVAL(PRIORVALUE(stage), "closedWon"), NOT(ISPICKVAL(stage, "closedWon")))'


@pytest.fixture(scope="module")
def crm(runtime: Runtime) -> Iterator[CreatedTenant]:
    """One tenant for the module; each test leaves it with no rules and no custom fields."""
    with tenant_scope(runtime) as created:
        yield created


@pytest.fixture
def gql(app: Any, runtime: Runtime, crm: CreatedTenant) -> Iterator[GraphQLClient]:
    """The shared tenant's client (instead of a new tenant per test); records of earlier tests stay,
    so tests count only records named with their own prefix."""
    yield GraphQLClient(app, crm.token)
    _reset(runtime, crm)


def _reset(runtime: Runtime, created: CreatedTenant) -> None:
    """Delete every validation rule, then every custom field (latest first), of the standard objects."""
    ref = runtime.tenant(created.tenant.slug)
    actor = Actor(ref, created.admin_user_id)
    with runtime.db.system.connect() as conn:
        meta = load_metadata(conn, ref)
    for obj in meta.objects:
        for rule in obj.validation_rules:
            delete_validation_rule(runtime, actor, {"object": obj.name, "name": rule.name})
    for obj in meta.objects:
        for field in reversed([f for f in obj.fields if f.origin != "standard"]):
            delete_field(runtime, actor, {"object": obj.name, "name": field.name, "confirm": True})


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _rule(gql: GraphQLClient, name: str, expression: str, message: Any, **extra: Any) -> dict[str, Any]:
    data = {"object": "opportunity", "name": name, "expression": expression, "message": message, **extra}
    return gql.data(CREATE_RULE, {"input": data})["createValidationRule"]


def _rules(gql: GraphQLClient, obj: str = "opportunity") -> list[dict[str, Any]]:
    return gql.data(RULES, {"object": obj})["object"]["validationRules"]


def _opportunity_data(**data: Any) -> dict[str, Any]:
    return {"name": _unique("opp"), "closeDate": "2026-06-30", **data}


def _opportunity(gql: GraphQLClient, **data: Any) -> dict[str, Any]:
    return gql.data(CREATE_OPPORTUNITY, {"data": _opportunity_data(**data)})["createOpportunity"]


def _refused_create(gql: GraphQLClient, **data: Any) -> dict[str, Any]:
    return gql.error(CREATE_OPPORTUNITY, {"data": _opportunity_data(**data)})


def _update(gql: GraphQLClient, record_id: str, **data: Any) -> dict[str, Any]:
    return gql.data(UPDATE_OPPORTUNITY, {"id": record_id, "data": data})["updateOpportunity"]


def _refused_update(gql: GraphQLClient, record_id: str, **data: Any) -> dict[str, Any]:
    return gql.error(UPDATE_OPPORTUNITY, {"id": record_id, "data": data})


def _read(gql: GraphQLClient, record_id: str) -> dict[str, Any]:
    return gql.data(GET_OPPORTUNITY, {"id": record_id})["opportunity"]


def _account(gql: GraphQLClient, **data: Any) -> str:
    return gql.data(CREATE_ACCOUNT, {"data": {"name": _unique("acct"), **data}})["createAccount"]["id"]


def _count(gql: GraphQLClient, prefix: str) -> int:
    result = gql.data(COUNT_OPPORTUNITIES, {"filter": {"name": {"startsWith": prefix}}})
    return result["opportunities"]["totalCount"]


def _assert_rule_error(error: dict[str, Any], rule: str, message: str, field: str | None) -> None:
    """A create refused by one rule: its message, the field it names, and the rule in the details."""
    assert error["extensions"]["code"] == "VALIDATION_ERROR", error
    assert error["message"] == message
    assert error["extensions"].get("field") == field
    assert error["extensions"]["errors"] == [{"field": field, "message": message, "rule": rule}]


# --- defining rules ---------------------------------------------------------------------------


def test_create_list_update_and_delete_a_rule(gql: GraphQLClient) -> None:
    # given a new tenant, whose opportunity has no rules
    assert _rules(gql) == []
    # when a rule is created with an English and a Chinese message, a field and a description
    created = _rule(
        gql, "amountPositive", "amount <= 0", {"en": "Amount must be positive", "zh": "金额必须为正数"},
        field="amount", description="No free deals",
    )
    # then it comes back as defined, active, custom, with the message in the locale asked for
    expected = {
        "object": "opportunity",
        "name": "amountPositive",
        "expression": "amount <= 0",
        "message": "Amount must be positive",
        "zhMessage": "金额必须为正数",
        "messages": {"en": "Amount must be positive", "zh": "金额必须为正数"},
        "field": "amount",
        "active": True,
        "description": "No free deals",
        "origin": "custom",
    }
    assert created == expected
    assert _rules(gql) == [expected]
    # when only its expression is updated
    updated = gql.data(UPDATE_RULE, {"input": {"object": "opportunity", "name": "amountPositive",
                                               "expression": "amount < 1"}})["updateValidationRule"]
    # then the expression changes and every other key is kept
    assert updated == {**expected, "expression": "amount < 1"}
    assert _rules(gql) == [updated]
    # when it is deleted
    deleted = gql.data(DELETE_RULE, {"input": {"object": "opportunity", "name": "amountPositive"}})
    # then the deleted rule is returned and the object has no rules again
    assert deleted["deleteValidationRule"] == {"name": "amountPositive", "expression": "amount < 1"}
    assert _rules(gql) == []


def test_plain_text_message_is_english_and_serves_every_locale(gql: GraphQLClient) -> None:
    # given a rule whose message is a plain text, without field or description
    created = _rule(gql, "nameNotTest", 'name = "test"', "Do not call it test")
    # then the message is stored as English, and Chinese falls back to it
    assert created["messages"] == {"en": "Do not call it test"}
    assert created["message"] == created["zhMessage"] == "Do not call it test"
    assert (created["field"], created["description"], created["active"]) == (None, None, True)


def test_bad_rule_definitions_are_refused(gql: GraphQLClient) -> None:
    # given an opportunity with one rule
    _rule(gql, "bigDeal", "amount > 1000", "Too big")

    def refused(**data: Any) -> dict[str, Any]:
        defaults = {"object": "opportunity", "name": "other", "expression": "TRUE", "message": "m"}
        return gql.error(CREATE_RULE, {"input": {**defaults, **data}})

    # when rules with a taken name, a bad name, an unknown field, an unknown object are created
    taken = refused(name="bigDeal")
    bad_name = refused(name="Big Deal")
    no_field = refused(field="nope")
    no_object = refused(object="nothing")
    # then each is refused naming the input at fault
    assert (taken["extensions"], taken["message"]) == (
        {"code": "VALIDATION_ERROR", "field": "name"}, "opportunity already has a validation rule 'bigDeal'",
    )
    assert bad_name["extensions"] == {"code": "VALIDATION_ERROR", "field": "name"}
    assert "'Big Deal' must be camelCase" in bad_name["message"]
    assert (no_field["extensions"], no_field["message"]) == (
        {"code": "VALIDATION_ERROR", "field": "field"}, "field: opportunity has no field 'nope' to attach the error to",
    )
    assert (no_object["extensions"], no_object["message"]) == ({"code": "NOT_FOUND", "field": "object"}, "no object 'nothing'")
    # and only the first rule exists
    assert [r["name"] for r in _rules(gql)] == ["bigDeal"]


def test_bad_expressions_are_refused_with_their_position(gql: GraphQLClient) -> None:
    def refused(expression: str) -> dict[str, Any]:
        data = {"object": "opportunity", "name": "broken", "expression": expression, "message": "m"}
        return gql.error(CREATE_RULE, {"input": data})

    # when rules with a syntax error, an unknown field, a NUMBER result, a misspelt picklist value
    # and a number compared with text are created
    syntax = refused("amount >")
    unknown = refused("amout > 1")
    number = refused("amount + 1")
    option = refused('ISPICKVAL(stage, "won")')
    mismatch = refused('amount > "x"')
    # then each is a VALIDATION_ERROR on "expression" with the line, column and kind of the problem
    found = [
        (e["extensions"]["code"], e["extensions"]["field"], e["extensions"]["line"], e["extensions"]["column"],
         e["extensions"]["kind"])
        for e in (syntax, unknown, number, option, mismatch)
    ]
    assert found == [
        ("VALIDATION_ERROR", "expression", 1, 9, "syntax"),
        ("VALIDATION_ERROR", "expression", 1, 1, "unknown_field"),
        ("VALIDATION_ERROR", "expression", 1, 8, "type_mismatch"),
        ("VALIDATION_ERROR", "expression", 1, 18, "invalid_argument"),
        ("VALIDATION_ERROR", "expression", 1, 8, "type_mismatch"),
    ]
    assert unknown["message"] == "1:1: unknown field 'amout' on opportunity (did you mean 'amount'?)"
    assert number["message"] == "1:8: type mismatch: validation rules must give BOOLEAN, this gives NUMBER"
    assert option["message"].startswith("1:18: 'won' is not a value of picklist 'stage'")
    # and no rule was saved
    assert _rules(gql) == []


def test_update_and_delete_refusals_leave_the_rule_as_it_was(gql: GraphQLClient) -> None:
    # given a rule
    before = _rule(gql, "bigDeal", "amount > 1000", "Too big", field="amount")
    # when it is updated with a bad expression or a missing field, and unknown rules are changed
    bad = gql.error(UPDATE_RULE, {"input": {"object": "opportunity", "name": "bigDeal", "expression": "amount +"}})
    no_field = gql.error(UPDATE_RULE, {"input": {"object": "opportunity", "name": "bigDeal", "field": "nope"}})
    missing_update = gql.error(UPDATE_RULE, {"input": {"object": "opportunity", "name": "smallDeal", "active": False}})
    missing_delete = gql.error(DELETE_RULE, {"input": {"object": "opportunity", "name": "smallDeal"}})
    # then each is refused and the rule is unchanged
    assert (bad["extensions"]["code"], bad["extensions"]["field"]) == ("VALIDATION_ERROR", "expression")
    assert (no_field["extensions"]["code"], no_field["extensions"]["field"]) == ("VALIDATION_ERROR", "field")
    for error in (missing_update, missing_delete):
        assert error["extensions"] == {"code": "NOT_FOUND", "field": "name"}
        assert error["message"] == "opportunity has no validation rule 'smallDeal'"
    assert _rules(gql) == [before]


# --- enforcement ------------------------------------------------------------------------------


def test_single_create_is_refused_with_the_rules_message_and_field(gql: GraphQLClient) -> None:
    # given a rule refusing amounts above 1000, attached to amount
    _rule(gql, "bigDeal", "amount > 1000", {"en": "Deals above 1000 need approval", "zh": "超过1000需审批"},
          field="amount")
    prefix = _unique("single")
    # when an opportunity of 1000.01 is created
    error = _refused_create(gql, name=f"{prefix}-big", amount="1000.01")
    # then it is refused with the English message, the rule's field and name, and nothing is created
    _assert_rule_error(error, "bigDeal", "Deals above 1000 need approval", "amount")
    assert _count(gql, prefix) == 0
    # and one of exactly 1000, and one without an amount (the rule is null, not TRUE), are created
    assert _opportunity(gql, name=f"{prefix}-edge", amount="1000")["amount"] == "1000.00"
    assert _opportunity(gql, name=f"{prefix}-none")["amount"] is None
    assert _count(gql, prefix) == 2


def test_rule_without_a_field_is_attached_to_the_record(gql: GraphQLClient) -> None:
    # given a rule without a field
    _rule(gql, "noTestNames", 'BEGINS(name, "test")', "No test opportunities")
    # when a write makes it TRUE
    error = _refused_create(gql, name="test-1")
    # then the error names no field
    _assert_rule_error(error, "noTestNames", "No test opportunities", None)


def test_bulk_create_names_every_failing_row_and_creates_nothing(gql: GraphQLClient) -> None:
    # given a rule refusing amounts above 1000, and the auto number of the latest opportunity
    _rule(gql, "bigDeal", "amount > 1000", "Too big", field="amount")
    number = int(_opportunity(gql)["opportunityNumber"].removeprefix("OPP-"))
    prefix = _unique("bulk")
    rows = [_opportunity_data(name=f"{prefix}-{i}", amount=amount) for i, amount in enumerate(["5", "2000", "10", "1500"])]
    # when the four rows are created in one call
    error = gql.error(CREATE_OPPORTUNITIES, {"data": rows})
    # then rows 1 and 3 are named with the rule, and no row is created
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["extensions"]["field"] == "amount"
    assert error["message"] == "data.1: Too big; data.3: Too big"
    assert error["extensions"]["errors"] == [
        {"field": "amount", "message": "data.1: Too big", "rule": "bigDeal", "index": 1},
        {"field": "amount", "message": "data.3: Too big", "rule": "bigDeal", "index": 3},
    ]
    assert _count(gql, prefix) == 0
    # and without the failing rows the bulk goes through, numbered right after the latest one
    created = gql.data(CREATE_OPPORTUNITIES, {"data": [rows[0], rows[2]]})["createOpportunities"]
    assert [r["name"] for r in created] == [f"{prefix}-0", f"{prefix}-2"]
    assert [r["opportunityNumber"] for r in created] == [f"OPP-{number + 1:05d}", f"OPP-{number + 2:05d}"]
    assert _count(gql, prefix) == 2


def test_update_is_refused_and_the_record_is_unchanged(gql: GraphQLClient) -> None:
    # given an opportunity of 500 and a rule refusing amounts above 1000
    record = _opportunity(gql, amount="500")
    _rule(gql, "bigDeal", "amount > 1000", "Too big", field="amount")
    # when it is updated to 5000
    error = _refused_update(gql, record["id"], amount="5000")
    # then the update is refused with the rule's message, field and name, and the record is unchanged
    assert error["message"] == "Too big"
    assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": "amount", "rule": "bigDeal"}
    after = _read(gql, record["id"])
    assert (after["amount"], after["version"]) == ("500.00", 1)
    # and an update within the rule goes through
    assert _update(gql, record["id"], amount="999.99")["amount"] == "999.99"


def test_rules_judge_the_whole_record_after_defaults(gql: GraphQLClient) -> None:
    # given an opportunity of 5000 created before a rule that big prospecting deals are refused
    existing = _opportunity(gql, amount="5000")
    _rule(gql, "qualifyBigDeals", 'AND(ISPICKVAL(stage, "prospecting"), amount > 1000)', "Qualify big deals first")
    # when a big deal is created without a stage (the default is prospecting), or with a later stage
    defaulted = _refused_create(gql, amount="5000")
    qualified = _opportunity(gql, amount="5000", stage="qualification")
    # then the default stage counts, and the later stage is accepted
    _assert_rule_error(defaulted, "qualifyBigDeals", "Qualify big deals first", None)
    assert qualified["stage"] == "qualification"
    # and an update of the older record that leaves it breaking the rule is refused, even of another field
    error = _refused_update(gql, existing["id"], name=_unique("renamed"))
    assert (error["message"], error["extensions"]["rule"]) == ("Qualify big deals first", "qualifyBigDeals")
    assert _update(gql, existing["id"], stage="proposal")["stage"] == "proposal"


def test_deletes_and_restores_are_not_validated(gql: GraphQLClient) -> None:
    # given an opportunity without a next step, then a rule that every opportunity needs one
    record = _opportunity(gql)
    _rule(gql, "needsNextStep", "ISBLANK(nextStep)", "Give a next step", field="nextStep")
    # when it is deleted and restored
    gql.data(DELETE_OPPORTUNITY, {"id": record["id"]})
    restored = gql.data(RESTORE_OPPORTUNITY, {"id": record["id"]})["restoreOpportunity"]
    # then both go through although the record breaks the rule
    assert restored == {"id": record["id"], "version": 3}
    # but an update still checks it
    assert _refused_update(gql, record["id"], amount="1")["message"] == "Give a next step"


# --- record-change functions ------------------------------------------------------------------


def test_isnew_is_true_on_create_only(gql: GraphQLClient) -> None:
    # given a rule that new opportunities may not start above 10,000
    _rule(gql, "startSmall", "AND(ISNEW(), amount > 10000)", "Start below 10,000", field="amount")
    # when one is created at 20,000, and one at 5,000 then raised to 20,000
    error = _refused_create(gql, amount="20000")
    record = _opportunity(gql, amount="5000")
    raised = _update(gql, record["id"], amount="20000")
    # then only the create is refused
    _assert_rule_error(error, "startSmall", "Start below 10,000", "amount")
    assert (raised["amount"], raised["version"]) == ("20000.00", 2)


def test_stage_cannot_go_back_from_closed_won(gql: GraphQLClient) -> None:
    # given the rule that a won opportunity stays won
    _rule(gql, "wonIsFinal", NO_REOPEN, {"en": "A won deal cannot be reopened", "zh": "赢单不能重新打开"},
          field="stage")
    # when an opportunity is created won (no prior value), then moved back to negotiation
    won = _opportunity(gql, stage="closedWon", amount="100")
    error = _refused_update(gql, won["id"], stage="negotiation")
    # then the create goes through and the move back is refused; the record stays won
    assert won["stage"] == "closedWon"
    assert error["message"] == "A won deal cannot be reopened"
    assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": "stage", "rule": "wonIsFinal"}
    assert _read(gql, won["id"])["stage"] == "closedWon"
    # and other changes of a won deal, and winning an open deal, are accepted
    assert _update(gql, won["id"], amount="150")["amount"] == "150.00"
    open_deal = _opportunity(gql, stage="negotiation")
    assert _update(gql, open_deal["id"], stage="closedWon")["stage"] == "closedWon"
    # and once won, it cannot be lost either
    assert _refused_update(gql, open_deal["id"], stage="closedLost")["extensions"]["rule"] == "wonIsFinal"


def test_ischanged_compares_with_the_value_before_the_update(gql: GraphQLClient) -> None:
    # given the rule that a won deal's close date is frozen
    _rule(gql, "closeDateFrozen", 'AND(ISPICKVAL(stage, "closedWon"), ISCHANGED(closeDate))',
          "The close date of a won deal is frozen", field="closeDate")
    # when a won deal is created (nothing counts as changed on create)
    won = _opportunity(gql, stage="closedWon", closeDate="2026-03-31")
    # then it is accepted; writing the same date again is no change, a new date is refused
    assert _update(gql, won["id"], closeDate="2026-03-31")["version"] == 2
    error = _refused_update(gql, won["id"], closeDate="2026-04-01")
    assert (error["message"], error["extensions"]["field"]) == ("The close date of a won deal is frozen", "closeDate")
    assert _read(gql, won["id"])["closeDate"] == "2026-03-31"
    # and an open deal's date may move
    open_deal = _opportunity(gql, closeDate="2026-03-31")
    assert _update(gql, open_deal["id"], closeDate="2026-05-01")["closeDate"] == "2026-05-01"


def test_priorvalue_is_null_on_create(gql: GraphQLClient) -> None:
    # given an opportunity created before a rule refusing every write without a prior name
    existing = _opportunity(gql)
    _rule(gql, "notBrandNew", "ISBLANK(PRIORVALUE(name))", "Only existing records may be written")
    # when an opportunity is created, and the older one is renamed
    error = _refused_create(gql)
    renamed = _update(gql, existing["id"], name="Renamed")
    # then the create is refused (no prior value) and the update is not (the prior name is set)
    _assert_rule_error(error, "notBrandNew", "Only existing records may be written", None)
    assert renamed["name"] == "Renamed"


def test_writing_the_same_value_in_another_form_is_no_change(gql: GraphQLClient) -> None:
    # given an opportunity, and a rule refusing any change of its products, stage entry time or amount
    record = _opportunity(gql, amount="10.5", products=["analytics", "crmSuite"],
                          stageEnteredAt="2026-03-01T10:00:00+05:30")
    _rule(gql, "frozen", "OR(ISCHANGED(products), ISCHANGED(stageEnteredAt), ISCHANGED(amount))", "Frozen")
    # when the same values are written in other forms: products reordered with a repeat, the same
    # instant in UTC, the same amount with more decimals
    same = _update(gql, record["id"], products=["crmSuite", "analytics", "analytics"],
                   stageEnteredAt="2026-03-01T04:30:00Z", amount="10.500")
    # then nothing counts as changed; a different amount does
    assert same["version"] == 2
    error = _refused_update(gql, record["id"], amount="10.51")
    assert (error["message"], error["extensions"]["rule"]) == ("Frozen", "frozen")


# --- lookup paths and formula fields ------------------------------------------------------------


def test_rule_on_a_lookup_path_sees_the_looked_up_records_current_values(gql: GraphQLClient) -> None:
    # given a retail and a technology account, and a rule on big retail deals
    retail = _account(gql, industry="retail")
    technology = _account(gql, industry="technology")
    _rule(gql, "retailCap", 'AND(account.industry = "retail", amount > 1000)', "Retail deals are capped at 1000",
          field="amount")
    prefix = _unique("lookup")
    # when big deals are created for each account, and a small one for the retail account
    refused = _refused_create(gql, name=f"{prefix}-r", account=retail, amount="1500")
    accepted = _opportunity(gql, name=f"{prefix}-t", account=technology, amount="1500")
    small = _opportunity(gql, name=f"{prefix}-s", account=retail, amount="1000")
    # then only the big retail deal is refused
    _assert_rule_error(refused, "retailCap", "Retail deals are capped at 1000", "amount")
    assert _count(gql, prefix) == 2
    # and moving the big deal to the retail account is refused
    error = _refused_update(gql, accepted["id"], account=retail)
    assert (error["message"], error["extensions"]["rule"]) == ("Retail deals are capped at 1000", "retailCap")
    # and raising the small deal is refused until its account's industry changes
    assert _refused_update(gql, small["id"], amount="2000")["extensions"]["rule"] == "retailCap"
    gql.data(UPDATE_ACCOUNT, {"id": retail, "data": {"industry": "energy"}})
    assert _update(gql, small["id"], amount="2000")["amount"] == "2000.00"
    # and so does a new big deal for that account
    assert _opportunity(gql, account=retail, amount="1500")["amount"] == "1500.00"


def test_bulk_rule_on_a_lookup_path_names_the_rows_of_retail_accounts(gql: GraphQLClient) -> None:
    # given a retail and an energy account, and a rule on big retail deals
    retail = _account(gql, industry="retail")
    energy = _account(gql, industry="energy")
    _rule(gql, "retailCap", 'AND(account.industry = "retail", amount > 1000)', "Retail deals are capped at 1000")
    prefix = _unique("bulkLookup")
    rows = [
        _opportunity_data(name=f"{prefix}-0", account=energy, amount="5000"),
        _opportunity_data(name=f"{prefix}-1", account=retail, amount="500"),
        _opportunity_data(name=f"{prefix}-2", account=retail, amount="5000"),
    ]
    # when they are created in one call
    error = gql.error(CREATE_OPPORTUNITIES, {"data": rows})
    # then only row 2 is named, and nothing is created
    assert [(e["index"], e["rule"]) for e in error["extensions"]["errors"]] == [(2, "retailCap")]
    assert error["message"] == "data.2: Retail deals are capped at 1000"
    assert _count(gql, prefix) == 0


def test_rule_using_today_judges_the_current_utc_date(gql: GraphQLClient) -> None:
    # given a rule refusing new opportunities closing in the past
    _rule(gql, "noPastClose", "AND(ISNEW(), closeDate < TODAY())", "The close date is in the past", field="closeDate")
    # when one closing in 2020 and one in 2099 are created
    error = _refused_create(gql, closeDate="2020-01-01")
    record = _opportunity(gql, closeDate="2099-12-31")
    # then the first is refused
    _assert_rule_error(error, "noPastClose", "The close date is in the past", "closeDate")
    assert record["closeDate"] == "2099-12-31"


def test_deleting_a_looked_up_field_a_rule_reads_is_refused(gql: GraphQLClient) -> None:
    # given a custom account field read by an opportunity rule through the account lookup
    gql.data(CREATE_FIELD, {"input": {"object": "account", "name": "region", "type": "TEXT"}})
    _rule(gql, "noEmbargo", 'account.region = "embargoed"', "No deals in embargoed regions")
    # when the account field is deleted
    error = gql.error(DELETE_FIELD, {"input": {"object": "account", "name": "region"}})
    # then it is refused IN_USE naming the opportunity rule
    assert error["extensions"]["code"] == "IN_USE"
    [dependent] = error["extensions"]["dependents"]
    assert dependent.startswith("validation rule opportunity.noEmbargo: ")
    assert "'region'" in dependent
    # and the rule still reads it
    account = _account(gql, region="embargoed")
    assert _refused_create(gql, account=account)["message"] == "No deals in embargoed regions"


def test_rule_on_a_formula_field(gql: GraphQLClient) -> None:
    # given a formula of the weighted amount and a rule refusing weighted amounts above 5000
    gql.data(CREATE_FIELD, {"input": {"object": "opportunity", "name": "weightedAmount", "type": "FORMULA",
                                      "resultType": "CURRENCY", "expression": "amount * probability / 100"}})
    _rule(gql, "weightedCap", "weightedAmount > 5000", "Weighted amount above 5000", field="probability")
    # when a deal of 10,000 at 60% (6,000) and one at 40% (4,000) are created
    error = _refused_create(gql, amount="10000", probability="60")
    record = _opportunity(gql, amount="10000", probability="40")
    # then the first is refused and the second accepted
    _assert_rule_error(error, "weightedCap", "Weighted amount above 5000", "probability")
    assert record["amount"] == "10000.00"
    # and raising its probability to 50% (exactly 5,000) is accepted, to 50.01% refused
    assert _update(gql, record["id"], probability="50")["version"] == 2
    assert _refused_update(gql, record["id"], probability="50.01")["extensions"]["rule"] == "weightedCap"
    assert _read(gql, record["id"])["probability"] == "50.0000"
    # and the formula cannot be deleted while the rule uses it
    error = gql.error(DELETE_FIELD, {"input": {"object": "opportunity", "name": "weightedAmount"}})
    assert error["extensions"]["code"] == "IN_USE"
    [dependent] = error["extensions"]["dependents"]
    assert dependent.startswith("validation rule opportunity.weightedCap: 1:1: unknown field 'weightedAmount'")


# --- inactive rules, order, messages ------------------------------------------------------------


def test_inactive_rule_is_not_enforced_until_reactivated(gql: GraphQLClient) -> None:
    # given an inactive rule
    created = _rule(gql, "bigDeal", "amount > 1000", "Too big", field="amount", active=False)
    assert created["active"] is False
    # when a big deal is created
    record = _opportunity(gql, amount="2000")
    # then it is accepted
    assert record["amount"] == "2000.00"
    # when the rule is reactivated
    reactivated = gql.data(UPDATE_RULE, {"input": {"object": "opportunity", "name": "bigDeal", "active": True}})
    assert reactivated["updateValidationRule"] == {**created, "active": True}
    # then new big deals and updates of the big one are refused
    _assert_rule_error(_refused_create(gql, amount="2000"), "bigDeal", "Too big", "amount")
    assert _refused_update(gql, record["id"], name="Still big")["extensions"]["rule"] == "bigDeal"
    # and deactivating it again lets them through
    gql.data(UPDATE_RULE, {"input": {"object": "opportunity", "name": "bigDeal", "active": False}})
    assert _update(gql, record["id"], name="Still big")["name"] == "Still big"


def test_a_record_fails_on_its_first_true_rule_by_position(gql: GraphQLClient) -> None:
    # given three rules, in this order: zeta (above 100), alpha (above 10), mid (names starting with X)
    _rule(gql, "zeta", "amount > 100", "zeta: above 100")
    _rule(gql, "alpha", "amount > 10", "alpha: above 10")
    _rule(gql, "mid", 'BEGINS(name, "X")', "mid: X names")
    # then they are listed in that order
    assert [r["name"] for r in _rules(gql)] == ["zeta", "alpha", "mid"]
    # when records break one or several of them
    # then each fails on its first TRUE rule by position, not by name, with one error
    both = _refused_create(gql, name="X-1", amount="500")
    assert both["message"] == "zeta: above 100"
    assert [e["rule"] for e in both["extensions"]["errors"]] == ["zeta"]
    assert _refused_create(gql, name="X-2", amount="50")["message"] == "alpha: above 10"
    assert _refused_create(gql, name="X-3", amount="5")["message"] == "mid: X names"
    # when zeta is deactivated, the next TRUE rule decides
    gql.data(UPDATE_RULE, {"input": {"object": "opportunity", "name": "zeta", "active": False}})
    assert _refused_create(gql, name="X-4", amount="500")["message"] == "alpha: above 10"
    # when zeta is deleted and defined again, it comes last
    gql.data(DELETE_RULE, {"input": {"object": "opportunity", "name": "zeta"}})
    _rule(gql, "zeta", "amount > 100", "zeta again")
    assert [r["name"] for r in _rules(gql)] == ["alpha", "mid", "zeta"]
    assert _refused_create(gql, name="Y-5", amount="500")["message"] == "alpha: above 10"
    # and changing a rule keeps its place
    gql.data(UPDATE_RULE, {"input": {"object": "opportunity", "name": "alpha", "expression": "amount > 1000"}})
    assert [r["name"] for r in _rules(gql)] == ["alpha", "mid", "zeta"]
    assert _refused_create(gql, name="X-6", amount="500")["message"] == "mid: X names"


def test_a_message_given_in_an_update_changes_only_the_locales_it_names(gql: GraphQLClient) -> None:
    # given a rule with English and Chinese messages
    _rule(gql, "bigDeal", "amount > 1000", {"en": "Too big", "zh": "金额过大"})
    # when it is updated with a Chinese message only
    updated = gql.data(UPDATE_RULE, {"input": {"object": "opportunity", "name": "bigDeal",
                                               "message": {"zh": "金额太大"}}})["updateValidationRule"]
    # then the Chinese text changes and the English one stays, as labels do
    assert updated["messages"] == {"en": "Too big", "zh": "金额太大"}
    assert (updated["message"], updated["zhMessage"]) == ("Too big", "金额太大")
    assert _refused_create(gql, amount="2000")["message"] == "Too big"


def test_chinese_message_is_read_through_the_locale_argument(gql: GraphQLClient) -> None:
    # given a rule with English and Chinese messages
    _rule(gql, "bigDeal", "amount > 1000", {"en": "Too big", "zh": "金额过大"})
    # when its messages are read in each locale
    rule = _rules(gql)[0]
    # then each locale has its own text
    assert (rule["message"], rule["zhMessage"], rule["messages"]) == (
        "Too big", "金额过大", {"en": "Too big", "zh": "金额过大"},
    )
    # and a refused write reports the English message
    assert _refused_create(gql, amount="2000")["message"] == "Too big"


# --- fields that rules depend on --------------------------------------------------------------


def test_deleting_a_field_used_by_a_rule_is_refused_until_the_rule_is_deleted(gql: GraphQLClient) -> None:
    # given a custom field used by a rule
    gql.data(CREATE_FIELD, {"input": {"object": "opportunity", "name": "discount", "type": "NUMBER",
                                      "precision": 5, "scale": 2}})
    _rule(gql, "maxDiscount", "discount > 50", "At most 50% discount", field="discount")
    # when the field is deleted
    error = gql.error(DELETE_FIELD, {"input": {"object": "opportunity", "name": "discount"}})
    # then it is refused IN_USE naming the rule, and field and rule stay
    assert error["extensions"]["code"] == "IN_USE"
    [dependent] = error["extensions"]["dependents"]
    assert dependent.startswith("validation rule opportunity.maxDiscount: ")
    assert "unknown field 'discount'" in dependent
    assert dependent in error["message"]
    names = [f["name"] for f in gql.data(FIELD_NAMES, {"object": "opportunity"})["object"]["fields"]]
    assert "discount" in names
    assert [r["name"] for r in _rules(gql)] == ["maxDiscount"]
    assert _refused_create(gql, discount="60")["message"] == "At most 50% discount"
    # when the rule is deleted first, then the field
    gql.data(DELETE_RULE, {"input": {"object": "opportunity", "name": "maxDiscount"}})
    deleted = gql.data(DELETE_FIELD, {"input": {"object": "opportunity", "name": "discount"}})
    # then both are gone
    assert deleted["deleteField"] == {"name": "discount"}
    names = [f["name"] for f in gql.data(FIELD_NAMES, {"object": "opportunity"})["object"]["fields"]]
    assert "discount" not in names


def test_deleting_the_field_a_rule_attaches_its_error_to_is_refused(gql: GraphQLClient) -> None:
    # given a custom field that a rule (not reading it) attaches its error to
    gql.data(CREATE_FIELD, {"input": {"object": "opportunity", "name": "approvalNote", "type": "TEXT"}})
    _rule(gql, "bigDeal", "amount > 1000", "Too big", field="approvalNote")
    # when the field is deleted
    error = gql.error(DELETE_FIELD, {"input": {"object": "opportunity", "name": "approvalNote"}})
    # then it is refused IN_USE, naming the rule and why
    assert error["extensions"] == {
        "code": "IN_USE",
        "dependents": ["validation rule opportunity.bigDeal: it attaches its error to field 'approvalNote', "
                       "which would no longer exist"],
    }
    # and a refused write still names the field
    assert _refused_create(gql, amount="2000")["extensions"]["field"] == "approvalNote"
    # and once the rule attaches its error elsewhere, the field can go
    gql.data(UPDATE_RULE, {"input": {"object": "opportunity", "name": "bigDeal", "field": "amount"}})
    assert gql.data(DELETE_FIELD, {"input": {"object": "opportunity", "name": "approvalNote"}})["deleteField"] == {
        "name": "approvalNote"
    }


def test_changing_a_field_type_so_a_rule_breaks_is_refused(gql: GraphQLClient) -> None:
    # given a custom number field compared with a number by a rule
    gql.data(CREATE_FIELD, {"input": {"object": "opportunity", "name": "discount", "type": "NUMBER",
                                      "precision": 5, "scale": 2}})
    _rule(gql, "maxDiscount", "discount > 50", "At most 50% discount")
    # when the field becomes TEXT (no record holds a value, so the data would allow it)
    error = gql.error(UPDATE_FIELD, {"input": {"object": "opportunity", "name": "discount", "type": "TEXT",
                                               "maxLength": 20}})
    # then it is refused IN_USE naming the rule, and the field keeps its type
    assert error["extensions"]["code"] == "IN_USE"
    [dependent] = error["extensions"]["dependents"]
    assert dependent.startswith("validation rule opportunity.maxDiscount: 1:10: type mismatch")
    fields = gql.data(FIELD_TYPES, {"object": "opportunity"})["object"]["fields"]
    assert {f["name"]: f["type"] for f in fields}["discount"] == "NUMBER"
    assert _refused_create(gql, discount="51")["message"] == "At most 50% discount"


def test_removing_a_picklist_option_a_rule_names_is_refused(gql: GraphQLClient) -> None:
    # given a custom picklist and a rule naming one of its options
    gql.data(CREATE_FIELD, {"input": {"object": "opportunity", "name": "tier", "type": "PICKLIST",
                                      "options": [{"value": "gold"}, {"value": "silver"}]}})
    _rule(gql, "goldIsBig", 'AND(ISPICKVAL(tier, "gold"), amount < 10)', "Gold deals are at least 10")
    # when the option is removed (no record holds it)
    error = gql.error(UPDATE_FIELD, {"input": {"object": "opportunity", "name": "tier",
                                               "options": [{"value": "silver"}]}})
    # then it is refused IN_USE naming the rule and the option
    assert error["extensions"] == {
        "code": "IN_USE",
        "dependents": ["validation rule opportunity.goldIsBig: 1:21: 'gold' is not a value of picklist 'tier' (silver)"],
    }
    # and the rule still applies to the option
    assert _refused_create(gql, tier="gold", amount="1")["message"] == "Gold deals are at least 10"
