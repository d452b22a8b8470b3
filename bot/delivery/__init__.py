"""Delivery: the outbox sender (pacing, retries, resume) and the progress message it keeps current."""
