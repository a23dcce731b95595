"""Errors the store raises, each with a message a person can act on."""

from __future__ import annotations


class StoreError(Exception):
    """Base class: ``str(err)`` is a complete sentence fit for a dialog."""


class NotADatabaseError(StoreError):
    pass


class ForeignDatabaseError(StoreError):
    pass


class DatabaseLockedError(StoreError):
    pass


class NewerSchemaError(StoreError):
    pass


class MigrationError(StoreError):
    pass


class NotFoundError(StoreError):
    pass


class InvalidTransitionError(StoreError):
    """A draft or ticket was asked to move to a state its rules forbid."""


class UnmaskedCardNumberError(StoreError):
    """An outgoing reply holds a full card number; a person has to confirm it before it is sent."""

    def __init__(self, endings: list[str]) -> None:
        shown = ", ".join(f"•••• {e}" for e in endings)
        super().__init__(f"The reply contains a full card number ({shown}). Replace it with the last four digits, "
                         "or confirm that the customer must receive the whole number.")
        self.endings = endings


class HumanOnlyError(StoreError):
    """A machine draft was asked for on a ticket whose routing rule says a person writes the reply."""
