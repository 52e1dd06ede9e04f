"""Every state change of an assignment, a response or a mailing goes through these functions."""
