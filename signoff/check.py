"""``python -m signoff.check``: kept so the documented command keeps working; the code is
:mod:`flow.check` (the flow layer sits above the signoff checks, see
``tests/test_layering.py``)."""

if __name__ == "__main__":
    import sys

    from flow.check import main

    sys.exit(main())
