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


class AuditKeyMissingError(StoreError):
    """The database's audit chain is keyed, but its key is not in this computer's keyring."""
