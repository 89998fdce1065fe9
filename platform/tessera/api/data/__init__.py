"""The generated data API: record types, filters, inputs, queries and mutations per tenant."""
