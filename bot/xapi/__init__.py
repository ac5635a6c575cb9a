"""xAPI: vocabulary, statement builders and the outbox forwarder."""
