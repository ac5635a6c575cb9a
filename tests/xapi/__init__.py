"""Tests of the xAPI outbox forwarder."""
