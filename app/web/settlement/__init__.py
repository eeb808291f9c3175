"""Settlement pages: the owner's bank account and monthly statements, and the administrators'
settlement desk (issue statements, export the bank's transfer file, record transfers)."""
