"""工商信息 — the business registry: accounts kept true to the GLEIF LEI registry, with risk events.

A connector provider (``gleif``) reads LEI records from the GLEIF API (JSON:API: records by LEI, search
by legal name, ``links.next`` paging) or from saved responses, refreshes the registry fields it adds
to ``account`` (legal name, registration authority and number, jurisdiction, legal form, statuses,
addresses, dates, successor), and turns what changed into ``riskEvent`` records that notify the
account's owner. It never creates accounts. See docs/scenarios/registry.md.
"""

from __future__ import annotations

from pathlib import Path

from tessera.plugin import ConnectorSpec, MetadataPackage, PluginInfo, SampleDataSpec, hookimpl
from tessera_registry import sample
from tessera_registry.gleif import GleifRegistry

VERSION = "1.0.0"


@hookimpl
def register_plugin() -> PluginInfo:
    return PluginInfo(name="registry", version=VERSION,
                      description="Business registry: GLEIF LEI records on accounts, risk events")


@hookimpl
def register_metadata_packages() -> list[MetadataPackage]:
    return [MetadataPackage(Path(__file__).parent / "metadata")]


@hookimpl
def register_connectors() -> list[ConnectorSpec]:
    return [ConnectorSpec(key="gleif", description="GLEIF LEI records (API or saved responses) refreshing accounts",
                          factory=GleifRegistry, rate_limit=1.0, demo_config={"source": str(sample.DATA)})]


@hookimpl
def register_sample_data() -> list[SampleDataSpec]:
    return [SampleDataSpec(description="Accounts for the entities of the saved GLEIF responses, some with "
                                       "registry values from before their latest change",
                           generate=sample.generate)]
