"""The audit log pages: the whole log with filters, for managers."""
