"""How the inbuilt LRS refuses a request: an HTTP status and a message for the client."""

from __future__ import annotations


class XapiError(Exception):
    """Answered as `status` with `{"message": …}`; the message is safe to show a client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bad_request(message: str) -> XapiError:
    return XapiError(400, message)
