"""The helpdesk's vocabulary and rules. Imports nothing but the standard library."""
