"""Services: the use cases, and the only code that writes."""
