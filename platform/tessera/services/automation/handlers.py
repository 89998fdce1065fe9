"""Every kind of background job of the platform, registered by importing the modules that define them."""

from tessera.services.automation import actions, email, schedules, webhooks
from tessera.services.connectors import sync
from tessera.services.reports import snapshots

__all__ = ["actions", "email", "schedules", "snapshots", "sync", "webhooks"]
