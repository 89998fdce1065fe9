"""Every kind of background job of the platform, registered by importing the modules that define them."""

from tessera.services.automation import actions, email, schedules, webhooks

__all__ = ["actions", "email", "schedules", "webhooks"]
