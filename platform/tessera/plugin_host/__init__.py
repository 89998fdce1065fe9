"""The plugin host: loading plugins, checking their hooks, collecting what they register."""

from tessera.plugin_host.manager import ALLOW_LIST, LoadedPlugin, PluginHost, default_host, discover

__all__ = ["ALLOW_LIST", "LoadedPlugin", "PluginHost", "default_host", "discover"]
