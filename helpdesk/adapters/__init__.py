"""Adapters: the chat platforms. Each turns platform messages into ``Inbound`` and renders
``Reply`` its own way; none knows about another."""
