"""The peer-learning helpdesk of a city network's regional hub.

Read top-down: ``domain`` (people, entries, questions, tickets and their rules),
``matching`` (question normalisation and fuzzy matching), ``services`` (the use
cases), ``storage`` and ``adapters`` (the outside world), ``bootstrap`` (wiring)
and ``cli``.
"""
