"""An undo log for the projection's state, so a late event rewinds only the events after it.

Every change to the projection's state goes through this log: a dict entry set (:class:`LoggedDict`),
a set member added (:class:`LoggedSet`), an attribute assigned or a history line appended
(:class:`.holder.Projection` records those). Rewinding to a mark undoes the changes made since, newest
first, in O(changes since the mark) — no snapshot of the whole state is ever copied. Values put in the
state are never changed in place afterwards (copy on write), so the log can hold the old ones as they are.

Marks are absolute (they stay valid when the oldest entries are forgotten to bound memory).

The log names what it changed (the projection's attribute holding the container), it does not hold it:
a projection, its containers and its log then form no reference cycle, so a holder's rights are freed
as soon as nothing refers to them, without waiting for CPython's cyclic collector (the rights service
makes that collector's full passes rare: ``services/rights/app/collector.py``).
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")

MISSING: Final = object()  # "the key was absent": undoing the set deletes it

# Entries are kept flat, four items each, in one list (no tuple per change: fewer objects for the
# garbage collector to walk, which dominated long histories). The kind comes last; a container is named
# by the owner's attribute that holds it.
SET_ITEM: Final = 0  # dict's name, key, old value or MISSING, SET_ITEM
ADD_MEMBER: Final = 1  # set's name, member, None, ADD_MEMBER
SET_ATTRIBUTE: Final = 2  # None, attribute's name, old value, SET_ATTRIBUTE
APPENDED: Final = 3  # list's name, None, None, APPENDED (an append-only list: undone by popping)


class UndoLog:
    """The changes made to one projection, oldest first."""

    __slots__ = ("base", "entries")

    def __init__(self) -> None:
        self.entries: list[Any] = []
        self.base = 0  # absolute mark of entries[0]

    def mark(self) -> int:
        return self.base + len(self.entries)

    def undo_to(self, mark: int, owner: object) -> None:
        """Undo every change made after ``mark`` to ``owner`` (the object whose state this logs), newest first."""
        entries = self.entries
        keep = mark - self.base
        if keep < 0:
            raise ValueError("the changes before this mark were forgotten")
        if keep >= len(entries):
            return
        undone = entries[keep:]
        del entries[keep:]
        newest_first = reversed(undone)
        # The methods as locals: looking one up on its class at every entry (an attribute read of a type,
        # not specialised by CPython 3.11) was a measurable part of a late event's rewind.
        set_item, missing, set_attribute = dict.__setitem__, MISSING, object.__setattr__
        # Four items an entry, read newest first (kind, old value, key, name): one slice and one
        # iterator instead of four pops an entry (this was most of a late event's cost).
        for kind, old, key, name in zip(newest_first, newest_first, newest_first, newest_first, strict=True):
            if kind == SET_ITEM:
                if old is missing:
                    dict.__delitem__(getattr(owner, name), key)
                else:
                    set_item(getattr(owner, name), key, old)
            elif kind == APPENDED:
                getattr(owner, name).pop()
            elif kind == SET_ATTRIBUTE:
                set_attribute(owner, key, old)
            else:
                set.discard(getattr(owner, name), key)

    def forget_before(self, mark: int) -> None:
        """Drop the entries older than ``mark``: the state can no longer be rewound past it."""
        drop = mark - self.base
        if drop > 0:
            del self.entries[:drop]
            self.base = mark


class LoggedDict(dict[K, V]):
    """A dict whose item assignments are logged (reads are the plain dict's); ``name`` is the owner's
    attribute that holds it, and it is never replaced."""

    __slots__ = ("entries", "name")

    def __init__(self, log: UndoLog, name: str, initial: dict[K, V] | None = None) -> None:
        if initial:
            dict.update(self, initial)
        self.entries = log.entries  # the log's own list (it is never replaced, only trimmed in place)
        self.name = name

    def __setitem__(self, key: K, value: V) -> None:
        self.entries += (self.name, key, dict.get(self, key, MISSING), SET_ITEM)
        dict.__setitem__(self, key, value)


class LoggedSet(set[T]):
    """A set whose additions are logged (nothing else may change it); ``name`` as for :class:`LoggedDict`."""

    __slots__ = ("entries", "name")

    def __init__(self, log: UndoLog, name: str) -> None:
        self.entries = log.entries
        self.name = name

    def add(self, member: T) -> None:
        if member not in self:
            self.entries += (self.name, member, None, ADD_MEMBER)
            set.add(self, member)
