"""Use cases: what the helpdesk does, independent of chat platforms and databases."""
