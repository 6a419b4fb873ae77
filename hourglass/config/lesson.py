"""A scenario's lesson for a training room, and its words in each of the reader's languages.

A shipped scenario says what it shows, what to try and which scenario to hold it against:

    description_ru: Базовый магазин без реферальной программы.
    lesson:
      title: {en: What word of mouth is worth, ru: Сколько стоит сарафанное радио}
      shows: {en: ..., ru: ...}
      try: {en: ..., ru: ...}
      compare_with: baseline

The scenario's `description` is English and `description_ru` its Russian twin, so files
written before either language was asked for still load; `described` picks the reader's.
Neither changes the numbers a run gives. In a lesson, what is written in `backticks`
(a field, a command) is shown as code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from hourglass.config.base import Model
from hourglass.config.sections import Name

if TYPE_CHECKING:
    from hourglass.config.scenario import Scenario

Words = Annotated[str, Field(min_length=1, max_length=2000)]


class Wording(Model):
    """One text in English and in Russian."""

    en: Words
    ru: Words

    def in_language(self, language: str) -> str:
        """The text in `language` (en or ru)."""
        return self.ru if language == "ru" else self.en


class Lesson(Model):
    """What a scenario teaches: a title, what it shows, what to try, what to compare it with."""

    title: Wording
    shows: Wording
    try_: Wording = Field(alias="try")
    compare_with: Name | None = None
    """The scenario to run beside this one on common random numbers (its name)."""


def described(scenario: Scenario, language: str) -> str:
    """The scenario's description in `language`, in English where it has no Russian twin."""
    if language == "ru" and scenario.description_ru:
        return scenario.description_ru
    return scenario.description
