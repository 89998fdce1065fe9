"""Our OCDS merge equals the reference library (ocdsmerge, given the local schemas) on every case."""

from __future__ import annotations

import json
from pathlib import Path

import ocdsmerge
import pytest

from tessera_tenders.merge import compile_releases

OCDS = Path(__file__).parents[2] / "fixtures" / "ocds"
SCHEMAS = {"1.0": "release-schema-1__0__3.json", "1.1": "release-schema-1__1__4.json"}
CASES = sorted(p.name for p in (OCDS / "merge-cases").glob("*.json") if "compiled" not in p.name)
WORKED = ["tender1", "tender2", "tender3", "award1", "award2"]


def _reference(releases: list[dict], version: str) -> dict:
    schema = json.loads((OCDS / SCHEMAS[version]).read_text())
    return ocdsmerge.Merger(schema=schema).create_compiled_release(releases)


def _worked() -> list[dict]:
    return [json.loads((OCDS / f"worked-example-updates/{n}.json").read_text())["releases"][0] for n in WORKED]


@pytest.mark.parametrize("version", ["1.0", "1.1"])
@pytest.mark.parametrize("case", CASES)
def test_merge_cases_equal_the_reference_and_the_published_result(case: str, version: str) -> None:
    releases = json.loads((OCDS / "merge-cases" / case).read_text())
    assert compile_releases(releases, version) == _reference(releases, version)
    expected = json.loads((OCDS / "merge-cases" / case.replace(".json", "-compiled.json")).read_text())
    assert compile_releases(releases, "1.1") == expected


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_fictional_example_and_worked_example_equal_the_reference(version: str) -> None:
    fictional = json.loads((OCDS / "fictional-1.1-release-package-ocds-213czf-000-00001.json").read_text())["releases"]
    assert compile_releases(fictional, version) == _reference(fictional, version)
    assert compile_releases(_worked(), version) == _reference(_worked(), version)


def test_worked_example_equals_its_published_compiled_release() -> None:
    merged = json.loads((OCDS / "worked-example-updates/merged.json").read_text())["records"][0]["compiledRelease"]
    assert compile_releases(_worked(), "1.1") == merged


def test_record_package_compiled_release_is_what_we_compile_from_its_releases() -> None:
    fictional = json.loads((OCDS / "fictional-1.1-release-package-ocds-213czf-000-00001.json").read_text())["releases"]
    record = json.loads((OCDS / "fictional-1.1-record-package-ocds-213czf-000-00001.json").read_text())["records"][0]
    assert compile_releases(fictional, "1.1") == _reference(fictional, "1.1")
    assert compile_releases(fictional, "1.1")["tender"] == record["compiledRelease"]["tender"]


def test_a_late_release_recompiled_in_any_order_gives_the_full_merge() -> None:
    releases = _worked()
    shuffled = [releases[3], releases[0], releases[4], releases[2], releases[1]]
    assert compile_releases(shuffled, "1.1") == _reference(releases, "1.1")


def test_suppliers_without_id_follow_the_version_rules() -> None:
    base = {"ocid": "o", "tag": ["award"], "initiationType": "tender"}
    releases = [
        {**base, "id": "1", "date": "2020-01-01T00:00:00Z", "awards": [{"id": "a", "suppliers": [{"name": "X"}]}]},
        {**base, "id": "2", "date": "2020-01-02T00:00:00Z", "awards": [{"id": "a", "suppliers": [{"name": "X"}]}]},
    ]
    for version in ("1.0", "1.1"):
        assert compile_releases(releases, version) == _reference(releases, version)
    assert len(compile_releases(releases, "1.0")["awards"][0]["suppliers"]) == 1
