"""How much one thing may hold, in one place: the knowledge files, the command line and the
chat commands that write into the knowledge base all check against these.

Each limit is far above what real use needs (the shipped knowledge base's largest values
are given beside them) and low enough that a pasted document, a runaway script or a
hostile file cannot fill the database, the matcher or a chat message.
"""

__all__ = [
    "MAX_BODY_LENGTH",
    "MAX_KNOWLEDGE_FILE_BYTES",
    "MAX_NAME_LENGTH",
    "MAX_PHRASINGS",
    "MAX_PHRASING_LENGTH",
    "MAX_PLACE_LENGTH",
    "MAX_ROW_ID",
    "MAX_TITLE_LENGTH",
]

# Row ids (tickets, people, proposals, versions) are INTEGER columns: 32 bits on
# PostgreSQL. A number above this cannot name a row, and asking for it must say so
# rather than overflow in the driver.
MAX_ROW_ID = 2**31 - 1

# An entry's title is a heading and the label of a suggestion button (largest shipped: 96
# characters; a promoted ticket's title is cut at 90).
MAX_TITLE_LENGTH = 200
# A phrasing is a question: as long as the longest question the bot accepts by default
# (HELPDESK_MAX_MESSAGE_LENGTH, which may not be set above it), so that any question can
# become a phrasing through /promote or an accepted proposal (largest shipped: 191).
MAX_PHRASING_LENGTH = 4000
# Phrasings of one entry: nine languages with several wordings each, and room for years of
# accepted proposals (largest shipped: 8).
MAX_PHRASINGS = 100
# An answer, and each of its translations. It must reach the official in one Matrix event
# (64 KiB with its HTML copy: 10,000 characters in a two-byte script is about 40 KiB) and
# in a few Telegram messages of 4096 characters (largest shipped: 2,186).
MAX_BODY_LENGTH = 10_000
# A city or country: the width of the database's columns (120 characters).
MAX_PLACE_LENGTH = 120
# A person's name on an invitation: the width of the database's column (200 characters).
MAX_NAME_LENGTH = 200
# A whole knowledge file, checked before it is read: an entry with every field at its
# limit in a two-byte script (Cyrillic, Greek) stays under it (largest shipped: 3.8 KB).
MAX_KNOWLEDGE_FILE_BYTES = 2 * 1024 * 1024
