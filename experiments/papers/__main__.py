"""``python -m experiments.papers``: the reproduction's command line (:mod:`.cli`)."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
