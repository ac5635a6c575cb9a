"""Why a request cannot be done, in the words the person reads.

Every capability refuses with a `Refused` (or a subclass of its own). The handlers render it
in one place, on the surface the request came from: the slash command's answer, the form's
field errors, or an ephemeral reply to a button or shortcut.
"""

from __future__ import annotations


class Refused(Exception):
    """The request cannot be done as asked; `message` says why, and how to do it right
    (mrkdwn, with whatever the person typed already escaped). `field`: the form field it is
    about, when the request was a form and the refusal knows which field is at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def field_errors(self, default_field: str) -> dict[str, str]:
        """The refusal as a form's field errors; `default_field` when it names none."""
        return {self.field or default_field: self.message}


class FieldsRefused(Refused):
    """A form with problems in several fields: each field's own message (by field name)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors

    def field_errors(self, default_field: str) -> dict[str, str]:
        return dict(self.errors)
