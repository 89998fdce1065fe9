"""The demo's sample data: tenders compiled from the shipped OCDS samples."""

from __future__ import annotations

from tests.plugins.tenders.conftest import Tenders

from tessera.services.demo import load_sample_data
from tessera.services.runtime import Actor


def test_sample_data_compiles_the_shipped_samples(tenders: Tenders) -> None:
    rt = tenders.rt
    load_sample_data(rt, Actor(rt.tenant(tenders.created.tenant.slug), tenders.created.admin_user_id, "import"),
                     accounts=2)
    found = {t["ocid"]: t for t in tenders.tenders()}
    assert set(found) == {"ocds-213czf-000-00001", "ocds-213czf-000-00002"}
    assert found["ocds-213czf-000-00002"]["value"] == "2000.00"
    assert tenders.count("tenderReleases") == 11 and tenders.count("tenderAwards") >= 3
