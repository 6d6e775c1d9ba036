"""Runnable examples for aliasguard; ``examples.pipeline`` is the target of ``aliasguard fuzz``."""
