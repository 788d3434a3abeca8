"""Text read aloud: Vietnamese numbers, dates and abbreviations as words, and reading time.

- :mod:`~dispatcher.broadcast.speech.numbers`: :func:`number_words` and friends, the Northern
  Vietnamese reading of numbers, digits, dates and times;
- :mod:`~dispatcher.broadcast.speech.normalize`: :func:`spoken`, written text → what the TTS voice
  reads, with the abbreviation table (:func:`default_abbreviations`), and :func:`syllables` /
  :func:`reading_seconds` for how long a script takes to read.
"""

from dispatcher.broadcast.speech.normalize import (
    DEFAULT_SYLLABLES_PER_MINUTE,
    default_abbreviations,
    reading_seconds,
    spoken,
    syllables,
)
from dispatcher.broadcast.speech.numbers import (
    date_words,
    day_words,
    decimal_words,
    digits_words,
    month_words,
    number_words,
    ordinal_words,
    time_words,
)

__all__ = [
    "DEFAULT_SYLLABLES_PER_MINUTE",
    "date_words",
    "day_words",
    "decimal_words",
    "default_abbreviations",
    "digits_words",
    "month_words",
    "number_words",
    "ordinal_words",
    "reading_seconds",
    "spoken",
    "syllables",
    "time_words",
]
