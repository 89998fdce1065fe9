"""GraphQL for plugins: listing, installing, upgrading, uninstalling; extensions of installed plugins."""
