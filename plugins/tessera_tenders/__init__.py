"""标讯雷达 — the tender radar: public tenders from Open Contracting Data Standard (OCDS) feeds.

A connector provider (``tenders``) reads OCDS release and record packages over HTTP (following
``links.next``, polling with ``since``) or from files and folders, compiles every contracting
process from all of its releases with the OCDS merge rules of the package's version (``merge.py``,
recompiling when a late release arrives), and keeps the raw releases (``tenderRelease``), the
compiled ``tender`` and its ``tenderAward`` records. Users save ``tenderSubscription`` criteria; a new
or changed tender that matches notifies them. See docs/scenarios/tenders.md.
"""

from __future__ import annotations

from pathlib import Path

from tessera.plugin import ConnectorSpec, MetadataPackage, PluginInfo, SampleDataSpec, hookimpl
from tessera_tenders import sample
from tessera_tenders.feed import TenderFeed

VERSION = "1.0.0"


@hookimpl
def register_plugin() -> PluginInfo:
    return PluginInfo(name="tenders", version=VERSION,
                      description="Tender radar: OCDS tender feeds, compiled tenders and awards, subscriptions")


@hookimpl
def register_metadata_packages() -> list[MetadataPackage]:
    return [MetadataPackage(Path(__file__).parent / "metadata")]


@hookimpl
def register_connectors() -> list[ConnectorSpec]:
    return [ConnectorSpec(key="tenders", description="OCDS release and record packages (HTTP, files, folders)",
                          factory=TenderFeed, rate_limit=10.0)]


@hookimpl
def register_sample_data() -> list[SampleDataSpec]:
    return [SampleDataSpec(description="Tenders compiled from the OCDS standard's sample releases",
                           generate=sample.generate)]
