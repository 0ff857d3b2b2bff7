"""Patient accounts without an e-mail server: staff hand over a one-time sign-up link."""
