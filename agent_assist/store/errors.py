"""Errors the store raises, each with a message a person can act on."""

from __future__ import annotations


class StoreError(Exception):
    """Base class: ``str(err)`` is a complete sentence fit for a dialog."""


class NotADatabaseError(StoreError):
    pass


class ForeignDatabaseError(StoreError):
    pass


class StorageError(StoreError):
    """The file itself is in trouble (busy, full, read-only, damaged): no single record is at fault."""


class DatabaseLockedError(StorageError):
    """Another program held the write lock longer than the busy timeout; trying again later can work."""


class DiskFullError(StorageError):
    """The disk (or the database's size limit) is full; nothing of the failed write was kept."""


class ReadOnlyDatabaseError(StorageError):
    """The file or its folder cannot be written; reading still works."""


class DamagedDatabaseError(StorageError):
    """SQLite found a damaged page; the file needs a restore from a backup (or ``.recover``)."""


class MissingDatabaseError(StoreError):
    """A command that only reads was pointed at a file that does not exist (it never creates one)."""


class StoreClosedError(StoreError):
    """The store was closed; late work (a timer, a background job) finds it gone."""


class NewerSchemaError(StoreError):
    pass


class MigrationError(StoreError):
    pass


class NotFoundError(StoreError):
    pass


class InvalidTransitionError(StoreError):
    """A draft or ticket was asked to move to a state its rules forbid."""


class AuditKeyMissingError(StoreError):
    """The database's audit chain is keyed, but its key is not in this computer's keyring."""


class UnmaskedCardNumberError(StoreError):
    """An outgoing reply holds a full card number; a person has to confirm it before it is sent."""

    def __init__(self, endings: list[str]) -> None:
        shown = ", ".join(f"•••• {e}" for e in endings)
        super().__init__(f"The reply contains a full card number ({shown}). Replace it with the last four digits, "
                         "or confirm that the customer must receive the whole number.")
        self.endings = endings


class HumanOnlyError(StoreError):
    """A machine draft was asked for on a ticket whose routing rule says a person writes the reply."""
