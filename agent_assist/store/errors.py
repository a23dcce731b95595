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
