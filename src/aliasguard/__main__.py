"""``python -m aliasguard``: the same command line as the ``aliasguard`` script."""

from aliasguard._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
