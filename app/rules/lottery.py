"""Lottery draws (being written)."""


def run_due_draws(now) -> int:
    return 0
