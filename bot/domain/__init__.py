"""Domain objects and rules in plain Python: no database, no HTTP."""
