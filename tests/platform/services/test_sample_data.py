"""Tests for the standard-package demo data generator (tessera.services.sample_data).

The records are checked against the YAML metadata in metadata/standard so that the generator and the
package definitions cannot drift apart.
"""

from __future__ import annotations

import importlib.util
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
METADATA_DIR = ROOT / "metadata" / "standard"
MODULE_PATH = ROOT / "platform" / "tessera" / "services" / "sample_data.py"

# The generator is standard-library only; load it by path so this test does not depend on how the
# tessera package is installed or on the import side effects of tessera/__init__.py.
_spec = importlib.util.spec_from_file_location("tessera_sample_data_under_test", MODULE_PATH)
sample_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sample_data)

DECIMAL = re.compile(r"^-?\d+\.\d{2}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _load_package() -> tuple[list[str], dict[str, dict[str, dict]]]:
    package = yaml.safe_load((METADATA_DIR / "package.yaml").read_text(encoding="utf-8"))
    objects = {}
    for name in package["objects"]:
        spec = yaml.safe_load((METADATA_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
        objects[name] = {field["name"]: field for field in spec["fields"]}
    return package["objects"], objects


INSTALL_ORDER, FIELDS = _load_package()


@pytest.fixture(scope="module")
def sample() -> dict[str, list[dict]]:
    return sample_data.standard_sample()


def _lei_checksum_ok(lei: str) -> bool:
    """ISO 17442 / ISO 7064 MOD 97-10: letters map to 10..35, the whole number mod 97 must be 1."""
    return bool(re.fullmatch(r"[0-9A-Z]{18}[0-9]{2}", lei)) and int("".join(str(int(c, 36)) for c in lei)) % 97 == 1


def test_same_seed_gives_identical_output():
    # given two generations with the same seed
    first = sample_data.standard_sample(seed=11)
    second = sample_data.standard_sample(seed=11)
    # then the output is identical, including order
    assert first == second
    assert list(first) == list(second)


def test_different_seed_gives_different_output():
    # given the default seed and another one
    default = sample_data.standard_sample()
    other = sample_data.standard_sample(seed=8)
    # then the generated data differs
    assert default != other
    assert default["opportunity"] != other["opportunity"]


def test_objects_come_in_insertion_order_with_expected_volumes(sample):
    # then the object keys follow the loader's insertion order
    assert list(sample) == ["account", "contact", "opportunity", "activity", "lead"]
    assert len(sample["account"]) == 40
    assert len(sample["lead"]) == 30
    # and every account has 2-4 contacts and 1-5 opportunities
    contacts = Counter(c["account"] for c in sample["contact"])
    opportunities = Counter(o["account"] for o in sample["opportunity"])
    for account in sample["account"]:
        assert 2 <= contacts[account["_key"]] <= 4
        assert 1 <= opportunities[account["_key"]] <= 5
    assert sample["activity"], "activities must be generated"


def test_keys_are_unique_and_every_lookup_resolves_to_an_earlier_record_of_the_target(sample):
    # given the records in insertion order
    seen: set[str] = set()
    for obj, records in sample.items():
        lookups = {name: f["target"] for name, f in FIELDS[obj].items() if f["type"] == "LOOKUP"}
        for record in records:
            # then every lookup value is the _key of an already-inserted record of the target object
            for field, target in lookups.items():
                if field in record:
                    assert record[field] in seen, f"{record['_key']}.{field} -> {record[field]} not inserted yet"
                    assert record[field].startswith(f"{target}:")
            # and keys are unique and prefixed with the object name
            assert record["_key"].startswith(f"{obj}:")
            assert record["_key"] not in seen
            seen.add(record["_key"])


def test_every_picklist_value_is_a_declared_option(sample):
    used = 0
    for obj, records in sample.items():
        for name, field in FIELDS[obj].items():
            if field["type"] not in ("PICKLIST", "MULTI_PICKLIST"):
                continue
            options = {option["value"] for option in field["options"]}
            for record in records:
                if name not in record:
                    continue
                values = record[name] if field["type"] == "MULTI_PICKLIST" else [record[name]]
                # then each value is one of the options declared in the YAML
                assert values and set(values) <= options, f"{record['_key']}.{name}={record[name]!r}"
                used += 1
    assert used > 500


def test_required_fields_present_and_only_writable_declared_fields_used(sample):
    for obj, records in sample.items():
        fields = FIELDS[obj]
        required = {name for name, f in fields.items() if f.get("required")}
        not_writable = {name for name, f in fields.items() if f["type"] == "AUTO_NUMBER" or f.get("readOnly")}
        for record in records:
            keys = set(record) - {"_key"}
            # then required fields carry a non-empty value
            for name in required:
                assert record.get(name) not in (None, ""), f"{record['_key']} misses required {name}"
            # and no unknown, auto-number or read-only field is emitted
            assert keys <= set(fields), f"{record['_key']} has unknown fields {keys - set(fields)}"
            assert not keys & not_writable, f"{record['_key']} sets {keys & not_writable}"


def test_values_are_in_api_input_form_and_within_declared_bounds(sample):
    for obj, records in sample.items():
        for record in records:
            for name, value in record.items():
                if name == "_key":
                    continue
                field = FIELDS[obj][name]
                kind = field["type"]
                if kind in ("CURRENCY", "NUMBER", "PERCENT"):
                    assert isinstance(value, str) and DECIMAL.match(value), f"{record['_key']}.{name}={value!r}"
                elif kind == "DATE":
                    assert DATE.match(value)
                elif kind == "DATETIME":
                    assert DATETIME.match(value)
                elif kind == "INTEGER":
                    assert isinstance(value, int) and not isinstance(value, bool)
                    assert field.get("min", value) <= value <= field.get("max", value)
                elif kind == "BOOLEAN":
                    assert isinstance(value, bool)
                elif kind in ("TEXT", "LONG_TEXT", "EMAIL", "PHONE", "URL"):
                    assert isinstance(value, str) and value
                    assert len(value) <= field.get("maxLength", 255)
                if kind == "EMAIL":
                    assert re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z.]+", value)
                if kind == "URL":
                    assert value.startswith("https://")


def test_opportunities_are_realistic(sample):
    # given the opportunities and the stage order declared in the YAML
    opportunities = sample["opportunity"]
    stage_order = [option["value"] for option in FIELDS["opportunity"]["stage"]["options"]]
    stages = Counter(o["stage"] for o in opportunities)
    # then about 20% are won and 15% lost
    assert 0.12 <= stages["closedWon"] / len(opportunities) <= 0.28
    assert 0.08 <= stages["closedLost"] / len(opportunities) <= 0.22
    assert set(stages) == set(stage_order)
    # and amounts and close dates are in range
    for opp in opportunities:
        assert 5_000 <= float(opp["amount"]) <= 2_000_000
        assert "2026-01-01" <= opp["closeDate"] <= "2026-12-31"
        closed = opp["stage"].startswith("closed")
        assert (opp["closeDate"] < "2026-11-26") if closed else ("nextStep" in opp)
        assert ("lossReason" in opp) == (opp["stage"] == "closedLost")
        assert opp["stageEnteredAt"] <= "2026-11-26T23:59:59Z"
    # and probability is a function of the stage that rises along the funnel
    probability = {}
    for opp in opportunities:
        assert probability.setdefault(opp["stage"], opp["probability"]) == opp["probability"]
    assert float(probability["closedWon"]) == 100 and float(probability["closedLost"]) == 0
    open_probabilities = [float(probability[s]) for s in stage_order if not s.startswith("closed")]
    assert open_probabilities == sorted(set(open_probabilities))


def test_opportunity_contact_belongs_to_the_same_account(sample):
    account_of = {c["_key"]: c["account"] for c in sample["contact"]}
    for opp in sample["opportunity"]:
        assert account_of[opp["contact"]] == opp["account"]


def test_activities_are_linked_and_consistent(sample):
    activities = sample["activity"]
    assert {"call", "visit", "meeting", "task"} <= {a["activityType"] for a in activities}
    assert any("opportunity" in a for a in activities)
    for activity in activities:
        assert "account" in activity
        assert ("completedAt" in activity) == (activity["status"] == "completed")
        if "completedAt" in activity:
            assert activity["completedAt"] >= activity["dueAt"]


def test_accounts_mix_languages_and_carry_valid_unique_leis(sample):
    # given the account names and LEIs
    names = [a["name"] for a in sample["account"]]
    leis = [a["lei"] for a in sample["account"] if "lei" in a]
    # then Chinese and Latin-script names are both present
    assert any(re.search(r"[\u4e00-\u9fff]", n) for n in names)
    assert any(re.fullmatch(r"[\x20-\x7e]+", n) for n in names)
    # and the LEIs are well-formed (ISO 17442 check digits) and unique
    assert "21380068P1DRHMJ8KU70" in leis
    assert len(leis) >= 3 and len(leis) == len(set(leis))
    assert all(_lei_checksum_ok(lei) for lei in leis)


def test_leads_cover_funnel_statuses(sample):
    leads = sample["lead"]
    statuses = {lead["status"] for lead in leads}
    assert {"new", "working", "qualified", "unqualified"} <= statuses
    for lead in leads:
        assert ("disqualifyReason" in lead) == (lead["status"] == "unqualified")
        if "convertedAccount" in lead:
            assert lead["status"] == "qualified" and "convertedContact" in lead


def test_more_accounts_than_curated_companies_stay_consistent():
    # when more accounts are requested than the curated company list holds
    sample = sample_data.standard_sample(seed=3, accounts=55)
    # then all accounts are generated, names stay unique and LEIs are not duplicated
    assert len(sample["account"]) == 55
    assert len({a["name"] for a in sample["account"]}) == 55
    leis = [a["lei"] for a in sample["account"] if "lei" in a]
    assert len(leis) == len(set(leis))
