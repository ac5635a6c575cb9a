"""Repositories: small sync functions over a `Session` from `Database.transaction()`.

They are called from async code only through the bounded executor, never on the event loop.
"""
