"""Time limits of cases: calendar days, or working days counted with China's official
holidays and the weekends made working days in exchange (调休).

The holiday table comes from ``chinese_calendar``, which is updated each year once the State
Council publishes the next year's arrangement (usually in November). For a year it does not
cover yet, Monday to Friday count as working days and the result says it is an estimate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import chinese_calendar

#: How far ahead a limit may reach; guards against a misconfigured value looping for ever.
MAX_WORKING_DAYS = 366


@dataclass(frozen=True)
class Deadline:
    due_on: dt.date
    #: True when a year without a published holiday arrangement was counted as Mon–Fri.
    estimated: bool = False


def is_working_day(day: dt.date) -> tuple[bool, bool]:
    """(whether ``day`` is a working day, whether that is an estimate)."""
    try:
        return chinese_calendar.is_workday(day), False
    except NotImplementedError:
        return day.weekday() < 5, True


def add_working_days(start: dt.date, days: int) -> Deadline:
    """The day on which ``days`` working days after ``start`` have passed.

    ``start`` itself does not count: a home visit due "within 2 working days" of a Friday
    lead before a normal weekend is due on Tuesday.
    """
    if days < 0 or days > MAX_WORKING_DAYS:
        raise ValueError(f"working days out of range: {days}")
    day, left, estimated = start, days, False
    while left:
        day += dt.timedelta(days=1)
        working, guessed = is_working_day(day)
        estimated = estimated or guessed
        if working:
            left -= 1
    return Deadline(day, estimated)


def add_days(start: dt.date, days: int) -> Deadline:
    return Deadline(start + dt.timedelta(days=days))


class Urgency:
    """How a limit stands today, for the colour of a row."""

    OK = "ok"
    NEAR = "near"  # due within NEAR_DAYS
    OVERDUE = "overdue"


NEAR_DAYS = 3


def urgency(due_on: dt.date | None, today: dt.date) -> str:
    if due_on is None:
        return Urgency.OK
    if today > due_on:
        return Urgency.OVERDUE
    if (due_on - today).days <= NEAR_DAYS:
        return Urgency.NEAR
    return Urgency.OK
