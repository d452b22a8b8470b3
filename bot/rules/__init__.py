"""Pure election rules: no aiogram, no SQL, no clock, no I/O.

Every function takes the moments it needs (``now``, dates) as arguments; every legal number comes
from a `Policy` built by `preset` with the source of each value; thresholds are exact Fractions.
Rules return outcomes (dataclasses with reason enums); the bot translates them.
"""
