"""The connector sync framework: connector instances, their runs, and the page-by-page sync job.

- ``instances``: create, change, delete and list connectors (credentials encrypted by ``secrets``);
- ``runs``: the run log, and starting a run (manual, scheduled, CLI);
- ``sync``: the ``connector.sync`` job, one page per job and transaction;
- ``upsert``: writing a page (mapping, change detection, upsert by match key, failure isolation);
- ``mapping``: paths, transforms and content hashes; ``http``: the providers' HTTP client;
- ``schedules``: the minute tick's part for connectors.

Providers come from plugins (``register_connectors``, the contract in ``tessera.plugin.connectors``).
See docs/connectors.md.
"""
